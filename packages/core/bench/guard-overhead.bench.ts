import { expect, it } from 'vitest';
import { guard } from '../src/guard/guard.js';
import type { GuardedDriver } from '../src/guard/guarded-driver.js';
import type { GuardOptions } from '../src/guard/options.js';
import type { ComputeDriver } from '../src/driver/compute-driver.js';
import { InstanceSpecSchema, type InstanceSpec } from '../src/schemas/instance-spec.js';
import { InstanceInfoSchema } from '../src/schemas/instance-info.js';
import { UuidSchema } from '../src/schemas/common.js';
import { createReferenceDriver } from '../src/testing.js';
import { compare, report, type BenchCase } from './harness.js';
import { BIG_HOST, makeSpecs, populated } from './fixtures.js';

// The guard's cost per call against calling the reference driver directly. Goals: at most
// +1 us per call at the median, and under 2x on getInfo, for a trusted driver (output
// validation 'sampled', the documented production setting); the default ('all', what the
// conformance suite uses) is printed beside it. Both sides do the same work on identical
// drivers; the guard adds input parsing, the capability gate, per-instance serialisation,
// the deadline and output validation.

const OPS = 1000;
const ROUNDS = 21;

type Target = Pick<ComputeDriver, 'spawn' | 'destroy' | 'getInfo'> | GuardedDriver;

async function guarded(config = BIG_HOST, validateOutputs: GuardOptions['validateOutputs'] = 'all'): Promise<GuardedDriver> {
  const g = guard(createReferenceDriver(config), { validateOutputs });
  await g.initHost();
  await g.getCapabilities();
  return g;
}

function spawnCase(name: string, target: Target): BenchCase {
  let specs: InstanceSpec[] = [];
  return {
    name,
    before: (_r, ops) => {
      specs = makeSpecs(ops);
    },
    op: (i) => target.spawn(specs[i]!),
    after: async () => {
      for (const s of specs) await target.destroy(s.uuid);
    },
  };
}

function destroyCase(name: string, target: Target): BenchCase {
  let specs: InstanceSpec[] = [];
  return {
    name,
    before: async (_r, ops) => {
      specs = makeSpecs(ops);
      for (const s of specs) await target.spawn(s);
    },
    op: (i) => target.destroy(specs[i]!.uuid),
  };
}

it('guard overhead per call: spawn, destroy, getInfo', async () => {
  const direct = createReferenceDriver(BIG_HOST);
  const g = await guarded();
  const gSampled = await guarded(BIG_HOST, 'sampled');

  const spawn = await compare(
    [spawnCase('direct spawn', direct), spawnCase('guarded spawn (outputs: all)', g), spawnCase('guarded spawn (outputs: sampled)', gSampled)],
    { ops: OPS, rounds: ROUNDS },
  );
  const destroy = await compare(
    [destroyCase('direct destroy', direct), destroyCase('guarded destroy (outputs: all)', g), destroyCase('guarded destroy (outputs: sampled)', gSampled)],
    { ops: OPS, rounds: ROUNDS },
  );

  // getInfo on drivers holding 1,000 instances with one volume and one interface each.
  const a = await populated(1000);
  const b = await populated(1000);
  const c = await populated(1000);
  const gb = guard(b.driver);
  const gc = guard(c.driver, { validateOutputs: 'sampled' });
  await gb.getCapabilities();
  await gc.getCapabilities();
  const getInfo = await compare(
    [
      { name: 'direct getInfo', op: (i) => a.driver.getInfo(a.uuids[i % 1000]!) },
      { name: 'guarded getInfo (outputs: all)', op: (i) => gb.getInfo(b.uuids[i % 1000]!) },
      { name: 'guarded getInfo (outputs: sampled)', op: (i) => gc.getInfo(c.uuids[i % 1000]!) },
    ],
    { ops: OPS * 5, rounds: ROUNDS },
  );

  console.log('\nGuard overhead, reference driver direct vs guard(reference driver), median of interleaved rounds');
  report('spawn', spawn);
  report('destroy', destroy);
  report('getInfo', getInfo);
  // Spawn's input is a whole InstanceSpec: parsing it is the guard's job (the driver no longer
  // parses anything), so spawn's overhead is that parse; the goal is about the per-call cost.
  const extra = (rs: typeof spawn, k: number) => `+${((rs[k]!.nsPerOp - rs[0]!.nsPerOp) / 1000).toFixed(2)} us`;
  const ratio = (rs: typeof spawn, k: number) => `${(rs[k]!.nsPerOp / rs[0]!.nsPerOp).toFixed(2)}x`;
  console.log('\nguard overhead per call, median (goal: at most +1 us per call, getInfo under 2x, with outputs sampled)');
  for (const [k, mode] of [[2, 'sampled'], [1, 'all    ']] as const) {
    console.log(
      `  outputs ${mode}: destroy ${extra(destroy, k)}  getInfo ${extra(getInfo, k)} (${ratio(getInfo, k)})  spawn ${extra(spawn, k)} (spec parse included)`,
    );
  }

  for (const r of [...spawn, ...destroy, ...getInfo]) expect(Number.isFinite(r.nsPerOp) && r.nsPerOp > 0).toBe(true);
});

// Where a guarded call's time goes: the guard's building blocks measured alone, next to a
// direct getInfo, so their share of the overhead above can be read off.
it('guard building blocks, relative to a direct getInfo', async () => {
  const { driver, uuids } = await populated(1000);
  const info = await driver.getInfo(uuids[0]!);
  const spec = makeSpecs(1)[0]!;
  const results = await compare(
    [
      { name: 'direct getInfo', op: (i) => driver.getInfo(uuids[i % 1000]!) },
      { name: 'UuidSchema.safeParse', op: (i) => UuidSchema.safeParse(uuids[i % 1000]) },
      { name: 'InstanceInfoSchema.safeParse (1 volume, 1 interface)', op: () => InstanceInfoSchema.safeParse(info) },
      { name: 'InstanceSpecSchema.safeParse (typical spec)', op: () => InstanceSpecSchema.safeParse(spec) },
      {
        name: 'AbortController + setTimeout + clearTimeout',
        op: () => {
          const c = new AbortController();
          const t = setTimeout(() => c.abort(), 30_000);
          clearTimeout(t);
        },
      },
      { name: 'await Promise.race([p, never])', op: () => Promise.race([Promise.resolve(1), new Promise(() => {})]) },
    ],
    { ops: 5000, rounds: ROUNDS },
  );
  console.log('');
  report('guard building blocks (ratio to a direct getInfo)', results);
  for (const r of results) expect(Number.isFinite(r.nsPerOp) && r.nsPerOp > 0).toBe(true);
});
