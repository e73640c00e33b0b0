/**
 * Command lines the reports print for a user to paste into a POSIX shell (replay, sweep):
 * every argument that is not plainly safe is single-quoted, so a path or a driver name with
 * spaces, quotes or `$` reaches the command as the one argument it is.
 */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function shellArg(value: string): string {
  if (value !== '' && SAFE.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function shellCommand(args: readonly string[]): string {
  return args.map(shellArg).join(' ');
}

/**
 * The arguments that name a driver on the command line: `--driver <specifier>`, and
 * `--config <file>` when the run had one (a replay or sweep without it would create the
 * driver with another configuration, or fail to).
 */
export function driverArgs(specifier: string, configFile?: string): string[] {
  return ['--driver', specifier, ...(configFile === undefined ? [] : ['--config', configFile])];
}
