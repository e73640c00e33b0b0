import { execFile } from 'node:child_process';
import { DriverError } from '@nova-common/core';

export interface CommandFailure {
  exitCode: number | null;
  stderr: string;
}

/**
 * Run a host tool (`ip`, `losetup`, `blockdev`) with an argument array: no shell ever sees an
 * argument, so a name can never be read as shell syntax. Callers validate names before this
 * (an argument starting with `-` could still be read as an option by the tool).
 * A missing tool is BACKEND_UNAVAILABLE; a tool that fails is returned to the caller, which
 * knows what the failure means.
 */
export function runCommand(
  op: string,
  command: string,
  args: readonly string[],
  signal?: AbortSignal,
  input?: string,
): Promise<{ ok: true; stdout: string } | ({ ok: false } & CommandFailure)> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, [...args], { signal, maxBuffer: 16 * 1024 * 1024, env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } }, (error, stdout, stderr) => {
      if (error === null) return resolve({ ok: true, stdout });
      const e = error as NodeJS.ErrnoException & { code?: string | number };
      if (e.name === 'AbortError') return reject(new DriverError('CANCELLED', { op, detail: `${command} was cancelled` }));
      if (e.code === 'ENOENT') return reject(new DriverError('BACKEND_UNAVAILABLE', { op, detail: `${command} is not installed on this host` }));
      resolve({ ok: false, exitCode: typeof e.code === 'number' ? e.code : null, stderr: String(stderr).trim() });
    });
    // The tool's standard input: what it reads (ip -batch -), else nothing.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

/** Run a host tool and answer its output; a failure is INTERNAL with the tool's own words. */
export async function mustRun(op: string, command: string, args: readonly string[], signal?: AbortSignal, input?: string): Promise<string> {
  const r = await runCommand(op, command, args, signal, input);
  if (r.ok) return r.stdout;
  throw new DriverError('INTERNAL', { op, detail: `${command} ${args.join(' ')} failed (exit ${r.exitCode}): ${r.stderr}` });
}
