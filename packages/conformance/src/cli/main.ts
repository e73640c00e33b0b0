import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONTRACT_VERSION, DriverLoadError } from '@nova-common/core';
import { SUITE_VERSION } from '../version.js';
import { listCommand } from './commands/list.js';
import { matrixCommand } from './commands/matrix.js';
import { runCommand } from './commands/run.js';
import { siteCommand } from './commands/site.js';
import { sweepCommand } from './commands/sweep.js';
import { COMMANDS, HELP, MAIN_HELP, type CommandName } from './help.js';
import { EXIT_FAIL, EXIT_INTERRUPTED, EXIT_PASS, EXIT_USAGE, UsageError, processIo, type CliIo } from './io.js';

export { EXIT_FAIL, EXIT_INTERRUPTED, EXIT_PASS, EXIT_USAGE, UsageError, type CliIo } from './io.js';

const handlers: Record<CommandName, (argv: string[], io: CliIo) => Promise<number>> = {
  run: runCommand,
  list: listCommand,
  sweep: sweepCommand,
  matrix: matrixCommand,
  site: siteCommand,
};

const isHelp = (a: string): boolean => a === '--help' || a === '-h';

/**
 * The CLI, callable in-process: returns the exit code instead of exiting, writes only to
 * `io`. 0 passed, 1 failures (or the driver broke), 2 usage or configuration error, 130
 * interrupted (`run` on SIGINT).
 */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || isHelp(command)) {
    io.stdout.write(MAIN_HELP);
    return command === undefined ? EXIT_USAGE : EXIT_PASS;
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    io.stdout.write(`nova-conformance ${SUITE_VERSION} (contract ${CONTRACT_VERSION})\n`);
    return EXIT_PASS;
  }
  if (!(COMMANDS as readonly string[]).includes(command)) {
    io.stderr.write(`nova-conformance: unknown command "${command}"\n\n${MAIN_HELP}`);
    return EXIT_USAGE;
  }
  const name = command as CommandName;
  // --help anywhere before `--` wins over every other flag, valid or not.
  const beforeDashDash = rest.indexOf('--') === -1 ? rest : rest.slice(0, rest.indexOf('--'));
  if (beforeDashDash.some(isHelp)) {
    io.stdout.write(HELP[name]);
    return EXIT_PASS;
  }
  try {
    return await handlers[name](rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`nova-conformance ${error.command ?? name}: ${error.message}\n`);
      io.stderr.write(`Run \`nova-conformance ${error.command ?? name} --help\` for usage.\n`);
      return EXIT_USAGE;
    }
    if (error instanceof DriverLoadError) {
      io.stderr.write(`nova-conformance ${name}: ${error.message}\n`);
      return EXIT_USAGE;
    }
    // The message (and its causes) by default; the stack with NOVA_CONFORMANCE_DEBUG=1.
    io.stderr.write(`nova-conformance ${name}: failed: ${describeFailure(error, io.env.NOVA_CONFORMANCE_DEBUG === '1')}\n`);
    return EXIT_FAIL;
  }
}

function describeFailure(error: unknown, stack: boolean): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    parts.push(current instanceof Error ? (stack ? (current.stack ?? current.message) : `${current.name}: ${current.message}`) : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join('\n  caused by: ');
}

/** True when this module is the program node started (dist/cli.js, possibly through a bin symlink). */
function invokedDirectly(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      // An interrupted run may leave calls hanging at its gate (and the engine's keep-alive):
      // its cleanup is done, so end the process instead of waiting for them.
      if (code === EXIT_INTERRUPTED) process.exit(code);
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`nova-conformance: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = EXIT_FAIL;
    },
  );
}
