import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const PACKAGE_DIR = join(import.meta.dirname, '../..');
export const CLI = join(PACKAGE_DIR, 'dist/cli.js');

export interface RunningAgent {
  child: ChildProcess;
  ready: { addresses: { address: string; role: string }[]; metricsPort?: number; driver: string };
  stderr: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `nova-agent serve ...` as a process; resolves once it printed its ready line (rejects if it exits first). */
export function runAgent(args: string[], cwd = PACKAGE_DIR): Promise<RunningAgent> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"ready"'));
      if (line === undefined) return;
      resolve({
        child,
        ready: JSON.parse(line) as RunningAgent['ready'],
        stderr: () => err,
        exited,
        stop: (signal = 'SIGTERM') => {
          child.kill(signal);
          return exited;
        },
      });
    });
    void exited.then((code) => reject(new Error(`nova-agent exited with ${code} before it was ready:\n${err}`)));
  });
}

/** Run `nova-agent` to its end; its exit code and stderr. */
export function runToEnd(args: string[], cwd = PACKAGE_DIR): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr: err, stdout: out })));
}
