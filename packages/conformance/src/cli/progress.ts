import type { ProgressEvent } from '../config.js';
import { printable } from '../report/terminal.js';
import type { CliIo } from './io.js';

interface ProgressReporter {
  onProgress: (event: ProgressEvent) => void;
  /** Clear the status line and stop its clock. */
  stop: () => void;
}

const runsText = (n: number): string => `${n} ${n === 1 ? 'run' : 'runs'}`;

/**
 * Progress on stderr, so stdout keeps only the summary. Without a terminal (CI logs, pipes):
 * one line per finished property and nothing else. On a terminal, finished properties are
 * printed the same way and one status line below them is rewritten in place: properties
 * done / total, what is running (the model properties run together), runs so far and the
 * time it has taken, refreshed every second.
 */
export function progressReporter(io: CliIo, label = ''): ProgressReporter {
  const prefix = label === '' ? '' : `${label} `;
  const running = new Map<string, { since: number; runs?: number }>();
  let done = 0;
  let total = 0;
  let timer: ReturnType<typeof setInterval> | undefined;

  const statusLine = (): string => {
    const first = running.entries().next().value;
    if (first === undefined) return '';
    const [property, state] = first;
    const more = running.size > 1 ? ` (+${running.size - 1})` : '';
    const runs = state.runs === undefined ? '' : `, ${runsText(state.runs)}`;
    const secs = Math.floor((Date.now() - state.since) / 1000);
    return printable(`${prefix}[${done}/${total}] running ${property}${more}${runs}, ${secs}s`);
  };
  const redraw = (): void => {
    io.stderr.write(`\r\u001b[2K${statusLine()}`);
  };

  const onProgress = (event: ProgressEvent): void => {
    total = event.total;
    if (event.status === 'started') {
      const state = running.get(event.property) ?? { since: Date.now() };
      if (event.runs !== undefined) state.runs = event.runs;
      running.set(event.property, state);
    } else {
      // The engine counts a property in `index` once it is done.
      done = event.index;
      running.delete(event.property);
      const line = printable(`${prefix}[${event.index}/${event.total}] ${event.property} ${event.status}${event.runs === undefined ? '' : ` (${runsText(event.runs)})`}`);
      io.stderr.write(io.stderrIsTTY ? `\r\u001b[2K${line}\n` : `${line}\n`);
    }
    if (!io.stderrIsTTY) return;
    if (running.size > 0) {
      redraw();
      if (timer === undefined) {
        timer = setInterval(redraw, 1000);
        timer.unref();
      }
    } else if (timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  const stop = (): void => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
    if (io.stderrIsTTY && running.size > 0) io.stderr.write('\r\u001b[2K');
    running.clear();
  };
  return { onProgress, stop };
}
