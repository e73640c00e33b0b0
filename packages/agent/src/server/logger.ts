import { pino, type Logger, type LevelWithSilent } from 'pino';

/** Structured JSON logs on stderr (stdout stays free for what a command prints). */
export function createLogger(level: LevelWithSilent = 'info'): Logger {
  return pino({ name: 'nova-agent', level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));
}

export type { Logger };
