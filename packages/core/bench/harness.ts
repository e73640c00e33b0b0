/**
 * A small side-by-side timer. Cases are measured in interleaved rounds (A B C, then
 * C B A, ...) so drift in CPU frequency, GC pressure and JIT state falls on every case
 * alike; each case's figure is the median of its rounds. (Written here rather than using
 * vitest's tinybench runner because that runs cases one after the other and cannot print
 * the overhead of one case relative to another.)
 */
export interface BenchCase {
  name: string;
  /** Called before each round, untimed: prepare inputs for `ops` operations. */
  before?: (round: number, ops: number) => Promise<void> | void;
  /** One operation; `i` counts 0..ops-1 within the round. */
  op: (i: number) => Promise<unknown> | unknown;
  /** Called after each round, untimed. */
  after?: (round: number, ops: number) => Promise<void> | void;
}

export interface BenchResult {
  name: string;
  /** Median over rounds of the mean time per operation. */
  nsPerOp: number;
  /** Fastest and slowest round, ns/op. */
  minNs: number;
  maxNs: number;
}

export interface BenchOptions {
  ops: number;
  rounds: number;
  warmupRounds?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function compare(cases: BenchCase[], options: BenchOptions): Promise<BenchResult[]> {
  const { ops, rounds, warmupRounds = 3 } = options;
  const samples = cases.map(() => [] as number[]);
  for (let r = 0; r < warmupRounds + rounds; r++) {
    const order = r % 2 === 0 ? cases.map((_, i) => i) : cases.map((_, i) => cases.length - 1 - i);
    for (const k of order) {
      const c = cases[k]!;
      await c.before?.(r, ops);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < ops; i++) await c.op(i);
      const t1 = process.hrtime.bigint();
      await c.after?.(r, ops);
      if (r >= warmupRounds) samples[k]!.push(Number(t1 - t0) / ops);
    }
  }
  return cases.map((c, k) => ({
    name: c.name,
    nsPerOp: median(samples[k]!),
    minNs: Math.min(...samples[k]!),
    maxNs: Math.max(...samples[k]!),
  }));
}

function fmtNs(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(0)} ns`;
}

/** A table: each case's ns/op and its ratio to the first case (the baseline). */
export function report(title: string, results: BenchResult[]): string {
  const base = results[0]!;
  const width = Math.max(...results.map((r) => r.name.length));
  const lines = [title];
  for (const r of results) {
    const ratio = r.nsPerOp / base.nsPerOp;
    const rel = r === base ? 'baseline' : `${ratio.toFixed(3)}x  (${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%)`;
    lines.push(`  ${r.name.padEnd(width)}  ${fmtNs(r.nsPerOp).padStart(10)}/op  [${fmtNs(r.minNs)} .. ${fmtNs(r.maxNs)}]  ${rel}`);
  }
  const text = lines.join('\n');
  console.log(text);
  return text;
}
