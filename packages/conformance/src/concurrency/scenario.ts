import fc from 'fast-check';
import type { InstanceSpecInput } from '@nova-common/core';
import type { ResolvedOptions } from '../config.js';
import { makeCall } from '../commands/arguments.js';
import type { ContractCall, SequenceOp } from '../commands/call.js';
import { opAllowed, type CommandScope } from '../commands/intents.js';
import { FixedSource } from '../commands/sources.js';
import { sampleSpec, sampleUuid } from '../run/fixed.js';

/**
 * One case of the concurrency properties: calls made one after another to set the instances
 * up, then lanes run at the same time (each lane's calls in order, the lanes side by side,
 * each starting after its delay). Everything is plain data, so a failing case can be cut down
 * call by call and rendered as a program.
 */
export interface Scenario {
  /** What the case is about, for messages. */
  title: string;
  /** Sequential calls before the race (spawns, and what brings an instance to its start state). */
  setup: ContractCall[];
  lanes: Lane[];
  /** Every instance uuid the case names (lower case): observed at the end and destroyed after. */
  uuids: string[];
}

export interface Lane {
  /** Milliseconds the lane waits before its first call (0: all lanes are submitted in the same tick). */
  delayMs: number;
  calls: ContractCall[];
}

/** The instance operations lanes are drawn from (spawn and the volume race are added where they fit). */
const LANE_OPS = ['powerOff', 'powerOn', 'rebootSoft', 'rebootHard', 'pause', 'unpause', 'suspend', 'resume', 'destroy'] as const;
export type LaneOp = (typeof LANE_OPS)[number] | 'spawn' | 'attachVolume' | 'detachVolume';
/** Every operation a lane may call. */
export const ALL_LANE_OPS: readonly LaneOp[] = [...LANE_OPS, 'spawn', 'attachVolume', 'detachVolume'];

/** Where the ids of one case come from, and what the driver allows. */
export interface ScenarioContext {
  options: ResolvedOptions;
  scope: CommandScope;
  /** Whether a destroyed instance's resources or node come back later than destroy returns. */
  delayedRelease: boolean;
  /** Whether volumes can be generated (declared, and a connection the driver takes). */
  volumes: boolean;
}

export const operationOf = (op: LaneOp): SequenceOp => (op === 'rebootSoft' || op === 'rebootHard' ? 'reboot' : op);

export function laneOpAllowed(ctx: ScenarioContext, op: LaneOp): boolean {
  if ((op === 'attachVolume' || op === 'detachVolume') && !ctx.volumes) return false;
  return opAllowed(ctx.scope, operationOf(op));
}

/** The ids of one case: instance i's uuid and spec, instance i's volume. */
class Ids {
  private readonly specs = new Map<number, InstanceSpecInput>();
  constructor(
    private readonly ctx: ScenarioContext,
    private readonly salt: number,
  ) {}

  uuid(i: number): string {
    return sampleUuid(this.ctx.options, this.salt + i);
  }

  spec(i: number): InstanceSpecInput {
    let spec = this.specs.get(i);
    if (spec === undefined) this.specs.set(i, (spec = sampleSpec(this.ctx.options, this.uuid(i), this.salt + i)));
    return spec;
  }

  volume(i: number): string {
    return sampleUuid(this.ctx.options, this.salt + 50 + i);
  }
}

/** One concrete call of a lane operation on instance i. */
async function callOf(ctx: ScenarioContext, ids: Ids, op: LaneOp, i: number): Promise<ContractCall> {
  const uuid = ids.uuid(i);
  if (op === 'spawn') return { op: 'spawn', spec: ids.spec(i) };
  if (op === 'detachVolume') return { op: 'detachVolume', uuid, volumeId: ids.volume(i) };
  const source = new FixedSource({ purpose: 'concurrency', uuid, volume: ids.volume(i), vif: { id: ids.volume(i), address: 'fa:16:3e:7f:00:02' } }, ctx.options);
  const column = op === 'rebootSoft' || op === 'rebootHard' ? op : undefined;
  const call = await makeCall(operationOf(op), uuid, source, column);
  if (call === undefined) throw new Error(`no call of ${op} could be made for the concurrency properties`);
  return call;
}

/** A start state of an instance: not there yet, running, or powered off (when powerOff is declared). */
type Start = 'absent' | 'running' | 'shutdown' | 'running+volume';

async function setupOf(ctx: ScenarioContext, ids: Ids, i: number, start: Start): Promise<ContractCall[]> {
  if (start === 'absent') return [];
  const calls: ContractCall[] = [await callOf(ctx, ids, 'spawn', i)];
  if (start === 'shutdown') calls.push(await callOf(ctx, ids, 'powerOff', i));
  if (start === 'running+volume') calls.push(await callOf(ctx, ids, 'attachVolume', i));
  return calls;
}

function startAllowed(ctx: ScenarioContext, start: Start): boolean {
  if (start === 'shutdown') return laneOpAllowed(ctx, 'powerOff');
  if (start === 'running+volume') return laneOpAllowed(ctx, 'attachVolume');
  return true;
}

/**
 * A lane plan: for one instance, its start state and its lane operations. Lanes that would let a
 * spawn depend on a release the same race made (a spawn alongside a destroy of an instance that
 * exists) are not planned when the driver releases late: whether such a spawn fits then
 * depends on timing the contract leaves open (eventualConsistency).
 */
interface Plan {
  title: string;
  starts: Start[];
  /** Lanes: the instance each one acts on and its operations. */
  lanes: { instance: number; ops: LaneOp[]; delayMs: number }[];
}

function releaseSafe(ctx: ScenarioContext, plan: Plan): boolean {
  if (!ctx.delayedRelease) return true;
  const ops = plan.lanes.flatMap((l) => l.ops);
  const spawns = ops.filter((o) => o === 'spawn').length;
  if (spawns === 0 || !ops.includes('destroy')) return true;
  // The one safe mix: a single spawn racing destroys of an instance that is not there yet.
  const destroyed = new Set(plan.lanes.filter((l) => l.ops.includes('destroy')).map((l) => l.instance));
  return spawns === 1 && [...destroyed].every((i) => plan.starts[i] === 'absent');
}

/** Soft reboots are preempted (CANCELLED) by a destroy or a hard reboot of the same instance: not mixed. */
function preemptionFree(plan: Plan): boolean {
  for (let i = 0; i < plan.starts.length; i++) {
    const ops = plan.lanes.filter((l) => l.instance === i).flatMap((l) => l.ops);
    if (ops.includes('rebootSoft') && (ops.includes('destroy') || ops.includes('rebootHard'))) return false;
  }
  return true;
}

function planAllowed(ctx: ScenarioContext, plan: Plan): boolean {
  return plan.lanes.length > 0 && plan.lanes.every((l) => l.ops.every((o) => laneOpAllowed(ctx, o))) && plan.starts.every((s) => startAllowed(ctx, s)) && releaseSafe(ctx, plan) && preemptionFree(plan);
}

async function scenarioOf(ctx: ScenarioContext, plan: Plan, salt: number): Promise<Scenario> {
  const ids = new Ids(ctx, salt);
  const setup: ContractCall[] = [];
  for (let i = 0; i < plan.starts.length; i++) setup.push(...(await setupOf(ctx, ids, i, plan.starts[i]!)));
  const lanes: Lane[] = [];
  for (const l of plan.lanes) {
    const calls: ContractCall[] = [];
    for (const op of l.ops) calls.push(await callOf(ctx, ids, op, l.instance));
    lanes.push({ delayMs: l.delayMs, calls });
  }
  return { title: plan.title, setup, lanes, uuids: plan.starts.map((_, i) => ids.uuid(i)) };
}

export type ConcurrencyKind = 'instances' | 'calls';

/**
 * The fixed cases, run first whatever the seed. `instances`: sibling instances acted on at
 * once (powered off together; spawned together, then powered off and rebooted; a destroy and
 * a spawn beside a hard reboot).
 * `calls`: the named races on one instance (two spawns of one uuid, destroy racing spawn,
 * detach racing attach of one volume).
 */
function fixedPlans(kind: ConcurrencyKind): Plan[] {
  if (kind === 'instances') {
    return [
      { title: 'two instances powered off at once', starts: ['running', 'running'], lanes: [{ instance: 0, ops: ['powerOff'], delayMs: 0 }, { instance: 1, ops: ['powerOff'], delayMs: 0 }] },
      { title: 'two instances spawned at once, then powered off and rebooted', starts: ['absent', 'absent'], lanes: [{ instance: 0, ops: ['spawn', 'powerOff'], delayMs: 0 }, { instance: 1, ops: ['spawn', 'rebootHard'], delayMs: 0 }] },
      { title: 'a destroy and a spawn beside a hard reboot', starts: ['running', 'running', 'absent'], lanes: [{ instance: 0, ops: ['destroy'], delayMs: 0 }, { instance: 1, ops: ['rebootHard'], delayMs: 0 }, { instance: 2, ops: ['spawn'], delayMs: 0 }] },
    ];
  }
  return [
    { title: 'two spawns of one uuid', starts: ['absent'], lanes: [{ instance: 0, ops: ['spawn'], delayMs: 0 }, { instance: 0, ops: ['spawn'], delayMs: 0 }] },
    { title: 'destroy racing spawn of one uuid', starts: ['absent'], lanes: [{ instance: 0, ops: ['spawn'], delayMs: 0 }, { instance: 0, ops: ['destroy'], delayMs: 0 }] },
    { title: 'detach racing attach of one volume', starts: ['running'], lanes: [{ instance: 0, ops: ['attachVolume'], delayMs: 0 }, { instance: 0, ops: ['detachVolume'], delayMs: 0 }] },
    { title: 'attach racing detach of one attached volume', starts: ['running+volume'], lanes: [{ instance: 0, ops: ['detachVolume'], delayMs: 0 }, { instance: 0, ops: ['attachVolume'], delayMs: 0 }] },
  ];
}

const delayArb = fc.constantFrom(0, 0, 1, 3);
const opArb = fc.constantFrom<LaneOp>(...ALL_LANE_OPS);

/** Random plans: sibling lanes of one or two operations each, or two or three single calls on one instance. */
function planArb(kind: ConcurrencyKind): fc.Arbitrary<Plan> {
  const start = fc.constantFrom<Start>('absent', 'running', 'running', 'shutdown', 'running+volume');
  if (kind === 'instances') {
    return fc.array(fc.record({ start, ops: fc.array(opArb, { minLength: 1, maxLength: 2 }), delayMs: delayArb }), { minLength: 2, maxLength: 3 }).map((lanes) => ({
      title: 'sibling instances acted on at once',
      starts: lanes.map((l) => l.start),
      // A lane on an instance that is not there yet begins with its spawn.
      lanes: lanes.map((l, i) => ({ instance: i, ops: l.start === 'absent' ? (['spawn', ...l.ops.filter((o) => o !== 'spawn').slice(0, 1)] as LaneOp[]) : l.ops.filter((o) => o !== 'spawn'), delayMs: l.delayMs })),
    }));
  }
  return fc.record({ start, lanes: fc.array(fc.record({ op: opArb, delayMs: delayArb }), { minLength: 2, maxLength: 3 }) }).map(({ start, lanes }) => ({
    title: 'concurrent calls on one instance',
    starts: [start],
    lanes: lanes.map((l) => ({ instance: 0, ops: [l.op], delayMs: l.delayMs })),
  }));
}

/**
 * The cases of one property: the fixed ones the driver can take, then `random` drawn from the
 * seed (redrawn while a draw is not allowed for this driver, a bounded number of times).
 */
export async function scenarios(ctx: ScenarioContext, kind: ConcurrencyKind, random: number, salt: number): Promise<Scenario[]> {
  const plans = fixedPlans(kind).filter((p) => planAllowed(ctx, p));
  const drawn = fc.sample(planArb(kind), { seed: ctx.options.seed + salt, numRuns: random * 20 });
  let added = 0;
  for (const p of drawn) {
    if (added >= random) break;
    if (!planAllowed(ctx, p)) continue;
    plans.push(p);
    added++;
  }
  const out: Scenario[] = [];
  for (let i = 0; i < plans.length; i++) out.push(await scenarioOf(ctx, plans[i]!, salt + 100 * (i + 1)));
  return out;
}
