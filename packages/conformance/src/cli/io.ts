/** Where the CLI writes and what it knows of its surroundings; tests pass their own. */
export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  /** True when stderr is a terminal: progress then rewrites one line instead of printing many. */
  stderrIsTTY: boolean;
  /** True when stdout is a terminal and NO_COLOR is unset: the summary is coloured. */
  color: boolean;
  /** Relative paths (config files, report files, driver paths) resolve against it. */
  cwd: string;
  env: Record<string, string | undefined>;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stderrIsTTY: process.stderr.isTTY === true,
    color: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
    cwd: process.cwd(),
    env: process.env,
  };
}

/** Exit codes: 0 everything passed, 1 a property failed (or the driver broke), 2 usage or configuration error, 130 interrupted. */
export const EXIT_PASS = 0;
export const EXIT_FAIL = 1;
export const EXIT_USAGE = 2;
/** The run was interrupted (SIGINT): 128 + 2, as a shell reports a command Ctrl-C ended. */
export const EXIT_INTERRUPTED = 130;

/** A usage or configuration error: printed with the command's usage line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    /** The command whose usage to point at, when known. */
    readonly command?: string,
  ) {
    super(message);
  }
}
