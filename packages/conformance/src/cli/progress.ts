import type { ProgressEvent } from '../config.js';
import { printable } from '../report/terminal.js';
import type { CliIo } from './io.js';

/**
 * Progress on stderr, so stdout keeps only the summary. On a terminal one status line is
 * rewritten in place (property n/m, runs done); otherwise (CI logs, pipes) one line per
 * finished property and nothing else.
 */
export function progressReporter(io: CliIo, label = ''): (event: ProgressEvent) => void {
  const prefix = label === '' ? '' : `${label} `;
  return (event) => {
    const done = event.status !== 'started';
    // The engine counts a property in `index` once it is done.
    const position = done ? event.index : event.index + 1;
    const head = `${prefix}[${position}/${event.total}] ${printable(event.property)}`;
    if (io.stderrIsTTY) {
      const runs = event.runs === undefined ? '' : ` (${runsText(event.runs)})`;
      io.stderr.write(`\r\u001b[2K${head} ${event.status}${runs}${done ? '\n' : ''}`);
    } else if (done) {
      io.stderr.write(`${head} ${event.status}${event.runs === undefined ? '' : ` (${runsText(event.runs)})`}\n`);
    }
  };
}

const runsText = (n: number): string => `${n} ${n === 1 ? 'run' : 'runs'}`;
