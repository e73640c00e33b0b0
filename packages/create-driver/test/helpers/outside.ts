import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const PACKAGE_DIR = resolve(import.meta.dirname, '../..');
export const REPO = resolve(PACKAGE_DIR, '../..');

/** A new directory outside the workspace (under the system's temporary directory). */
export function outsideDir(prefix: string): { dir: string; remove(): void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  if (dir.startsWith(`${REPO}/`)) throw new Error(`${dir} is inside the workspace ${REPO}`);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Run a command without a shell; never throws on a non-zero exit (tests assert the code). */
export function run(command: string, args: string[], cwd: string, timeoutMs = 900_000, env: Record<string, string> = {}): Ran {
  const started = performance.now();
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 << 20, env: { ...process.env, NO_COLOR: '1', ...env } });
  if (r.error) throw new Error(`${command} ${args.join(' ')}: ${r.error.message}`);
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr, seconds: (performance.now() - started) / 1000 };
}

/** The output of a command that must succeed; its output is in the failure message. */
export function ok(command: string, args: string[], cwd: string, timeoutMs?: number): Ran {
  const r = run(command, args, cwd, timeoutMs);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${r.code}\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  return r;
}
