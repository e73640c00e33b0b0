import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { CAPABILITY_IDS, supports, type CapabilityDeclaration, type CapabilityId, type DriverCapabilities } from '@nova-common/core';
import type { DifferentialResult, StepRecord } from '../../result.js';
import type { MigrationHosts } from '../hosts.js';
import { runPrefix, uuidFrom } from '../run.js';
import { canRun, resolve, stepRecord, type Allowed } from './execute.js';
import { describeMigrationIntent, migrationIntentArbitraries, stepsOfMove, type MigrationIntent, type MigrationScope } from './intents.js';
import type { PairOutcome } from './observe.js';
import { PairRun, type SharedState } from './pair.js';
import { differingParts, renderMigrationProgram } from './render.js';

export interface MigrationDifferentialOptions {
  /** The pairs to compare, by name: each two hosts of one driver kind. At least two. */
  pairs: Record<string, MigrationHosts>;
  /** Generated sequences (default 20). */
  numRuns?: number;
  /** fast-check's seed (default: random; the result gives it). */
  seed?: number;
  /** fast-check's replay path, with `seed`: replays one counterexample. */
  path?: string;
  /** Commands per sequence at most (default 12). */
  maxCommands?: number;
  /** Instances (distinct uuids) a sequence uses (default 2). */
  instances?: number;
  /** Keeps the uuids of two runs apart (default: random). */
  runId?: string;
}

/**
 * The result of a differential migration run: `drivers` are the pair names; a divergence's
 * outcomes are per pair (PairOutcome). `calls` counts, per operation, the results the pairs
 * agreed on (ok or an error code), so a caller sees what the sequences exercised.
 */
export type MigrationDifferentialResult = DifferentialResult & { calls: Record<string, Record<string, number>> };

/** What one pair did at the diverging step, beside the others'. */
class PairsDiverge extends Error {
  constructor(
    readonly stepIndex: number,
    readonly step: StepRecord,
    readonly outcomes: Record<string, PairOutcome>,
    readonly parts: string[],
  ) {
    super(`pairs diverge at step ${stepIndex + 1} (${step.op}): ${parts.join('; ')}`);
  }
}

interface Real {
  pairs: PairRun[];
  names: string[];
  trace: StepRecord[];
  calls: Record<string, Record<string, number>>;
}

/** One call on every pair; throws PairsDiverge when their outcomes differ, else answers the result they agreed on. */
async function lockstep(s: SharedState, real: Real, intent: Exclude<MigrationIntent, { kind: 'move' }>): Promise<string> {
  const call = resolve(s, intent);
  const outcomes: Record<string, PairOutcome> = {};
  for (let i = 0; i < real.pairs.length; i++) {
    const pair = real.pairs[i]!;
    const { run, onOk } = call.make(pair, i);
    outcomes[real.names[i]!] = await pair.step(s, run, onOk);
  }
  const first = outcomes[real.names[0]!]!;
  const step = stepRecord(call, first);
  real.trace.push(step);
  const all = real.names.map((n) => outcomes[n]!);
  if (all.some((o) => JSON.stringify(o) !== JSON.stringify(first))) throw new PairsDiverge(real.trace.length - 1, step, outcomes, differingParts(all));
  call.agreed?.(s, first);
  for (const [slot, seen] of Object.entries(first.instances)) s.where.set(Number(slot.slice(1)), seen.at);
  const counts = (real.calls[call.op] ??= {});
  counts[first.result] = (counts[first.result] ?? 0) + 1;
  return first.result;
}

class LockstepMigration implements fc.AsyncCommand<SharedState, Real> {
  constructor(
    readonly intent: MigrationIntent,
    private readonly allowed: Allowed,
  ) {}

  check(s: Readonly<SharedState>): boolean {
    return canRun(s as SharedState, this.intent, this.allowed);
  }

  async run(s: SharedState, real: Real): Promise<void> {
    if (this.intent.kind !== 'move') {
      await lockstep(s, real, this.intent);
      return;
    }
    // A move: prepare, migrate, then finish, or abort when migrate was refused; each call in lockstep.
    const [prepare, migrate, finish] = stepsOfMove(this.intent) as [Exclude<MigrationIntent, { kind: 'move' }>, Exclude<MigrationIntent, { kind: 'move' }>, Exclude<MigrationIntent, { kind: 'move' }>];
    if ((await lockstep(s, real, prepare)) !== 'ok') return;
    if (!canRun(s, migrate, this.allowed)) return;
    const moved = await lockstep(s, real, migrate);
    await lockstep(s, real, moved === 'ok' ? finish : { kind: 'abort', pick: -1 });
  }

  toString(): string {
    return describeMigrationIntent(this.intent);
  }
}

/** What every host of every pair declares (a capability counts when all support it), and the largest release bound. */
async function common(pairs: readonly MigrationHosts[]): Promise<{ caps: DriverCapabilities; releaseMs: number }> {
  const all = await Promise.all(pairs.flatMap((p) => [p.a.getCapabilities(), p.b.getCapabilities()]));
  const capabilities = {} as Record<CapabilityId, CapabilityDeclaration>;
  for (const id of CAPABILITY_IDS) capabilities[id] = all.every((c) => supports(c, id)) ? { level: 'complete' } : { level: 'missing' };
  const releaseMs = Math.max(...all.map((c) => Math.max(c.eventualConsistency.resourceReleaseMs, c.eventualConsistency.nodeAvailableMs)));
  return { caps: { ...all[0]!, capabilities }, releaseMs };
}

/**
 * The differential lockstep of migrations: fast-check generates sequences of migration-level
 * commands over a few instances (spawn on a host, the power operations, prepareMigration
 * LIVE or COLD with the same or a resized flavor to the other host, and the invalid ones: a
 * prepare on the instance's own host, an oversized flavor, a kind the schema does not know, a
 * source of another kind; migrate on either host, with the prepared target or one of another
 * kind; finishMigration and abortMigration of prepared and of unknown ids; destroy), restricted
 * to what every host of every pair declares (a spawn of an instance that lives on the other
 * host only with operation.evacuate). Every pair runs each sequence in lockstep; after
 * each call the pairs' normalised outcomes must be equal: ok or the error code, the prepared
 * target's kind and flavor, where each instance is (a, b, both, none), getInfo on each host
 * that has it (power state, mode, and whether name, metadata, volumes and interfaces are as
 * spawned), and each host's inventory usage relative to the start of the sequence, in units
 * of the pair's spec flavor. The first divergence is shrunk by fast-check to a minimal
 * sequence and reported with every pair's outcome. After every sequence each pair aborts (or
 * finishes) every migration it was asked to prepare and destroys every instance on both hosts.
 */
export async function runMigrationDifferential(options: MigrationDifferentialOptions): Promise<MigrationDifferentialResult> {
  const names = Object.keys(options.pairs);
  if (names.length < 2) throw new RangeError('runMigrationDifferential needs at least two pairs');
  const hosts = names.map((n) => options.pairs[n]!);
  const t0 = performance.now();
  const seed = options.seed ?? Math.floor(Math.random() * 0x7fffffff);
  const numRuns = options.numRuns ?? 20;
  const instances = options.instances ?? 2;
  const prefix = runPrefix(options.runId ?? `nc-migrate-diff-${randomUUID()}`);
  let counter = 0;
  const fresh = (): string => uuidFrom(prefix, ++counter);
  const { caps, releaseMs } = await common(hosts);
  const scope: MigrationScope = { caps, instances };
  const allowed: Allowed = { evacuate: supports(caps, 'operation.evacuate') };
  const arbs = migrationIntentArbitraries(scope).map(({ arbitrary, weight }) => ({ arbitrary: arbitrary.map((i) => new LockstepMigration(i, allowed)), weight }));
  const result: MigrationDifferentialResult = { drivers: names, runs: numRuns, steps: 0, seed, durationMs: 0, calls: {} };
  if (arbs.length === 0) {
    result.durationMs = performance.now() - t0;
    return result;
  }
  // One weighted choice among the commands (fast-check's commands pick among their arbitraries evenly).
  const cmds = fc.commands([fc.oneof(...arbs)], { maxCommands: options.maxCommands ?? 12, size: 'max' });
  let last: { error: PairsDiverge; trace: StepRecord[]; uuids: string[] } | undefined;
  const property = fc.asyncProperty(cmds, async (commands) => {
    const uuids = Array.from({ length: instances }, fresh);
    const shared: SharedState = { uuids, kind: (i) => hosts[i]!.kind, touched: [], where: new Map(), migrations: [], fresh };
    const real: Real = { pairs: names.map((n, i) => new PairRun(n, hosts[i]!)), names, trace: [], calls: result.calls };
    try {
      for (const p of real.pairs) await p.start();
      await fc.asyncModelRun(() => ({ model: shared, real }), commands);
    } catch (error) {
      if (error instanceof PairsDiverge) last = { error, trace: real.trace, uuids };
      throw error;
    } finally {
      result.steps += real.trace.length;
      for (const p of real.pairs) await p.cleanUp(uuids, releaseMs);
    }
  });
  const details = await fc.check(property, { seed, numRuns, ...(options.path !== undefined ? { path: options.path } : {}) });
  result.durationMs = performance.now() - t0;
  if (!details.failed) return result;
  if (last === undefined) throw details.errorInstance ?? new Error('differential migration run failed without a divergence');
  const { error, trace, uuids } = last;
  const path = details.counterexamplePath ?? '';
  result.divergence = {
    seed,
    stepIndex: error.stepIndex,
    step: error.step,
    outcomes: error.outcomes,
    program: renderMigrationProgram(trace, error.outcomes, { pairs: names, seed, path, uuids }),
    path,
    steps: trace,
  };
  return result;
}

/** One paragraph for logs and test output: agreement, or the diverging step, what differs, and the shrunk sequence. */
export function renderMigrationDifferential(r: MigrationDifferentialResult): string {
  const head = `${r.drivers.join(' vs ')}: ${r.runs} sequences, ${r.steps} steps, seed ${r.seed}, ${Math.round(r.durationMs)} ms`;
  if (!r.divergence) return `${head}: no divergence`;
  const parts = differingParts(Object.values(r.divergence.outcomes) as PairOutcome[]);
  return `${head}: diverge at step ${r.divergence.stepIndex + 1} of ${r.divergence.steps?.length ?? '?'} (${r.divergence.step.op}): ${parts.join('; ')}\n${r.divergence.program}`;
}
