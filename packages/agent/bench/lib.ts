/** What the agent's benchmarks share: timing runs, medians, and processes started side by side. */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function median(xs: number[]): number {
  const s = Float64Array.from(xs).sort();
  return s[Math.floor(s.length / 2)]!;
}

/** One call; `i` is its index in the run (the instance is picked from it). */
export type Target = (i: number) => Promise<unknown>;

/** N calls, `inFlight` at a time; every latency in us, and the calls per second. */
export async function run(call: Target, n: number, inFlight: number): Promise<{ latencies: number[]; perSecond: number }> {
  const latencies = new Array<number>(n);
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const t0 = performance.now();
      await call(i);
      latencies[i] = (performance.now() - t0) * 1000;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { latencies, perSecond: n / ((performance.now() - started) / 1000) };
}

/** A process printing `ready` once it listens on `socket`. */
export async function startProcess(args: string[], socket: string): Promise<{ socket: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, args, { cwd: join(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => (b.toString().includes('ready') ? resolve() : undefined));
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  return {
    socket,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** `nova-agent serve` from the sources in its own process on `<dir>/agent.sock`, logging errors only. */
export function startAgent(dir: string, serveArgs: string[]): Promise<{ socket: string; stop: () => Promise<void> }> {
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, 'agent.sock');
  return startProcess(['--import', 'tsx', join(import.meta.dirname, '../src/cli.ts'), 'serve', ...serveArgs, '--listen', `unix://${socket}`, '--log-level', 'error'], socket);
}
