import type { KillCell } from './run.js';

const ms = (v: number): string => (v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`);

/** The kill matrix as a Markdown table: operation x kill point -> what the call answered and what followed. */
export function renderKillMatrix(backend: string, cells: readonly KillCell[]): string {
  const lines = [
    `kill matrix: ${backend} (the daemon SIGKILLed during the call, then started again; a new driver session retries)`,
    '',
    '| operation | killed at | call answered | after the restart | driver vs backend | left after sweep | verdict |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const c of cells) {
    const answered = c.answered === 'ok' ? 'ok (done before the kill)' : `${c.answered}${c.retryable === true ? ' (retryable)' : c.retryable === false ? ' (not retryable)' : ''}`;
    const after = c.retries === undefined ? 'did not converge' : c.retries === 0 ? 'already done' : `converged after ${c.retries} ${c.retries === 1 ? 'retry' : 'retries'} (${ms(c.convergedInMs ?? 0)})`;
    lines.push(
      `| ${c.operation} | ${ms(c.killedAfterMs)} (${Math.round(c.killAt * 100)}% of ${ms(c.undisturbedMs)}) | ${answered} | ${after} | ${c.disagreements.length === 0 ? 'agree' : c.disagreements.join('; ')} | ${c.leaks} | ${c.failure === undefined ? 'holds' : `FAILS: ${c.failure}`} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
