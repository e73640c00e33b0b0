// pnpm bench: model steps per second against the reference driver, where their CPU time goes
// (the guard, the driver, the suite itself), and the time to shrink planted bugs (mutants) to
// their minimal sequences, all measured side by side in one run. Wall time and CPU time are
// both reported: on a busy machine wall time includes waiting for a CPU, CPU time does not.
import { cpus, loadavg } from 'node:os';
import { guard, type ComputeDriver } from '@nova-common/core';
import { createReferenceDriver } from '@nova-common/core/testing';
import { resolveOptions } from '../src/config.js';
import { runSequences } from '../src/run/model-run.js';
import { commandScope } from '../src/run/scope.js';
import { Session } from '../src/run/session.js';
import { mutant as rebootMutant } from '../test/mutants/reboot-from-shutdown-stays-off.js';
import { mutant as inventoryMutant } from '../test/mutants/inventory-not-released.js';
import { mutant as eventMutant } from '../test/mutants/event-never-emitted.js';
import { mutant as listMutant } from '../test/mutants/list-missing-shutdown.js';
import { profileShares, type Category } from './profile.js';
import { coverageBench } from './coverage.js';

/** Model steps per second the default run (every-step observations) should reach on the reference driver. */
const GOAL = 20_000;
/** What the default run reached before the suite derived its calls from the registry (same bench, every-step mode). */
const BEFORE = 8_500;

type Observe = 'every-step' | 'changes';

async function sequences(factory: () => ComputeDriver, runs: number, steps: number, seed: number, observe: Observe = 'every-step', walk = true) {
  const options = resolveOptions({ runs, steps, seed, observe, walk });
  const main = await Session.open(factory, options);
  const scope = commandScope(main.caps, options, { crash: false, noState: false });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = await runSequences({ main, fresh: () => Session.open(factory, options, undefined, undefined, main.stats) }, options, scope);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  await main.close();
  return { out, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function perCall(): Promise<{ raw: number; guarded: number }> {
  const raw = createReferenceDriver();
  const g = guard(raw, { enforceCapabilities: false });
  await g.initHost();
  const uuid = '11111111-2222-4333-8444-555555555555';
  await g.spawn({ uuid, name: 'bench', flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 0 }, image: { id: 'i', diskFormat: 'raw', containerFormat: 'bare' } });
  const time = async (fn: () => Promise<unknown>): Promise<number> => {
    for (let i = 0; i < 2000; i++) await fn();
    const c0 = process.cpuUsage();
    for (let i = 0; i < 20000; i++) await fn();
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 20000;
  };
  return { raw: await time(() => raw.getInfo(uuid)), guarded: await time(() => g.getInfo(uuid)) };
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const pct = (x: number): string => `${fmt(100 * x, 0)}%`;

console.log(`nova-conformance bench (${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}: wall time suffers when it is above the CPU count)\n`);

// Warm-up, then the measured runs: 200 sequences of up to 50 commands, in both observation modes.
await sequences(() => createReferenceDriver(), 20, 50, 1);
console.log('model steps against the reference driver (the table walk, then 200 sequences x <=50 commands)');
console.log(
  `  ${'observations'.padEnd(46)} ${'steps'.padStart(6)} ${'calls/step'.padStart(10)} ${'steps/s wall'.padStart(13)} ${'steps/s CPU'.padStart(12)} ${'us CPU/step'.padStart(12)}`,
);
const rates: Record<Observe, { wall: number; cpu: number; usPerStep: number; callsPerStep: number }> = {} as never;
for (const [label, mode] of [
  ['every step: getInfo + list + inventory', 'every-step'],
  ['on changes: list + inventory on spawn/destroy', 'changes'],
] as const) {
  const steady = await sequences(() => createReferenceDriver(), 200, 50, 12345, mode);
  const o = steady.out;
  if (o.failures.size > 0) throw new Error(`the reference driver failed: ${[...o.failures.keys()].join(', ')}`);
  const calls = [...o.opCounts.values()].reduce((a, b) => a + b, 0);
  rates[mode] = { wall: o.steps / (steady.wallMs / 1000), cpu: o.steps / (steady.cpuMs / 1000), usPerStep: (steady.cpuMs * 1000) / o.steps, callsPerStep: calls / o.steps };
  const r = rates[mode];
  console.log(
    `  ${label.padEnd(46)} ${fmt(o.steps).padStart(6)} ${fmt(r.callsPerStep, 1).padStart(10)} ${fmt(r.wall).padStart(13)} ${fmt(r.cpu).padStart(12)} ${fmt(r.usPerStep, 1).padStart(12)}`,
  );
}
const every = rates['every-step'];
console.log(
  `  default run (every step): ${fmt(every.wall)} steps/s wall, ${fmt(every.cpu)} CPU | goal >= ${fmt(GOAL)} (${pct(every.cpu / GOAL)} of it, CPU) | before the registry rewrite: ${fmt(BEFORE)} (x${fmt(every.cpu / BEFORE, 2)}, CPU)`,
);

// Where a step's CPU time goes, from a CPU profile of the same run (every-step mode).
const shares = await profileShares(() => sequences(() => createReferenceDriver(), 200, 50, 12345, 'every-step'));
const pc = await perCall();
const label: Record<Category, string> = {
  guard: 'the guard (argument parsing, output validation, queue, deadline)',
  driver: 'the reference driver (incl. its DriverErrors)',
  suite: 'the suite (model, checks, records, argument generation)',
  'fast-check': 'fast-check (drawing and running the commands)',
  gc: 'garbage collection (all of the above)',
  other: 'other runtime (promises, timers)',
};
console.log(`\nwhere a step's CPU time goes (every-step mode, ${fmt(every.callsPerStep, 1)} driver calls per step, ${fmt(every.usPerStep, 1)} us per step)`);
for (const k of Object.keys(label) as Category[]) console.log(`  ${label[k].padEnd(66)} ${pct(shares[k]).padStart(5)}  ${fmt(shares[k] * every.usPerStep, 1).padStart(6)} us`);
// Garbage collection is shared out in proportion to the rest.
const suiteShare = (shares.suite + shares['fast-check']) * (1 + shares.gc / (1 - shares.gc));
console.log(
  `  the suite's own share is ${pct(suiteShare)}: with the guard and the driver as they are, a suite costing nothing would reach ${fmt(every.cpu / (1 - suiteShare))} steps/s CPU;` +
    ` one getInfo: ${fmt(pc.raw, 1)} us CPU raw vs ${fmt(pc.guarded, 1)} us through the guard (x${fmt(pc.guarded / pc.raw, 1)}).`,
);
console.log('');

console.log('time to shrink a planted bug to its minimal sequence (the default run: table walk, then 20 sequences x <=25 commands;');
console.log('"sequences only" turns the walk off, so fast-check finds and shrinks the bug)');
console.log(`  ${'mutant'.padEnd(32)} ${'run'.padEnd(15)} ${'property'.padEnd(18)} ${'found'.padStart(9)} ${'minimal'.padStart(8)} ${'fc shrinks'.padStart(10)} ${'replays'.padStart(8)} ${'shrink time'.padStart(12)}`);
for (const m of [rebootMutant, inventoryMutant, eventMutant, listMutant]) {
  for (const walk of [true, false]) {
    const r = await sequences(m.create, 20, 25, 2024, 'every-step', walk);
    const first = [...r.out.failures.values()][0];
    const runLabel = walk ? 'default' : 'sequences only';
    if (!first) {
      console.log(`  ${m.id.padEnd(32)} ${runLabel.padEnd(15)} not found with this seed`);
      continue;
    }
    console.log(
      `  ${m.id.padEnd(32)} ${runLabel.padEnd(15)} ${first.property.padEnd(18)} ${`${first.shrink.firstLength} steps`.padStart(9)} ${`${first.trace.length} steps`.padStart(8)} ${fmt(first.shrink.runs).padStart(10)} ${fmt(first.shrink.replays).padStart(8)} ${`${fmt(first.shrink.ms, 1)} ms`.padStart(12)}`,
    );
  }
}

console.log('');
await coverageBench();
