import fc from 'fast-check';
import { CAPABILITY_IDS, supports, type CapabilityDeclaration, type CapabilityId, type ComputeDriver, type DriverCapabilities, type InstanceInfo } from '@nova-common/core';
import { resolveOptions, type ConformanceOptions, type DriverFactory, type ResolvedOptions } from '../config.js';
import type { DifferentialResult, StepRecord } from '../result.js';
import { callArgs, describeCall, invoke, producesImage, targetOf, unproduced, type SequencedCall } from '../commands/call.js';
import { canRun, describeIntent, intentArbitraries, resolveIntent, type CommandScope, type Intent, type SequenceModel } from '../commands/intents.js';
import { poolsArb } from '../model/arbitraries.js';
import { Model } from '../model/model.js';
import { renderProgram } from '../replay/program.js';
import { commandScope } from '../run/scope.js';
import { Session, errorCode, keepAlive, sleep } from '../run/session.js';
import { walk } from '../run/walk.js';

export interface DifferentialOptions extends ConformanceOptions {
  /** The drivers to compare, by name: factories of unconnected raw drivers (or raw drivers). At least two. */
  drivers: Record<string, DriverFactory | ComputeDriver>;
}

/** What one driver did at one step, normalised so drivers compare: node names and image ids are left out. */
interface StepOutcome {
  result: 'ok' | string;
  info: 'INSTANCE_NOT_FOUND' | string | { powerState: string; mode: string; name: string; metadata: Record<string, string>; volumes: string[]; interfaces: string[] } | undefined;
}

class DivergenceFound extends Error {
  constructor(
    readonly stepIndex: number,
    readonly step: StepRecord,
    readonly outcomes: Record<string, StepOutcome>,
  ) {
    super(`drivers diverge at step ${stepIndex + 1} (${step.op})`);
  }
}

interface DiffContext {
  names: string[];
  sessions: Session[];
  options: ResolvedOptions;
  produced: string[][];
  trace: StepRecord[];
  calls: SequencedCall[];
}

function normaliseInfo(info: InstanceInfo): StepOutcome['info'] {
  const metadata = Object.fromEntries(Object.entries(info.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    powerState: info.powerState,
    mode: info.mode,
    name: info.name,
    metadata,
    volumes: info.volumes.map((v) => v.volumeId.toLowerCase()).sort(),
    interfaces: info.interfaces.map((i) => i.id.toLowerCase()).sort(),
  };
}

async function outcomeOf(session: Session, call: SequencedCall, produced: string[], options: ResolvedOptions): Promise<StepOutcome> {
  let result = 'ok';
  try {
    const args = call.op === 'spawn' ? [options.adaptSpec(call.spec)] : callArgs(call, produced);
    const value = await invoke(session.driver, call, args, options.simulate);
    if (producesImage(call.op)) produced.push((value as { imageId: string }).imageId);
  } catch (error) {
    result = errorCode(error);
  }
  const target = targetOf(call);
  let info: StepOutcome['info'];
  if (target !== undefined) {
    try {
      info = normaliseInfo(await session.driver.getInfo(target));
    } catch (error) {
      info = errorCode(error);
    }
  }
  return { result, info };
}

/** One call on every driver; throws DivergenceFound when their outcomes differ. */
async function lockstep(ctx: DiffContext, model: Model, call: SequencedCall): Promise<void> {
  const e = model.expect(call);
  const step: StepRecord = { op: call.op, args: callArgs(call, ctx.produced[0]), expected: e.ok ? { ok: true, detail: e.to } : { ok: false, error: e.error } };
  ctx.trace.push(step);
  ctx.calls.push(call);
  const outcomes: Record<string, StepOutcome> = {};
  for (let i = 0; i < ctx.sessions.length; i++) outcomes[ctx.names[i]!] = await outcomeOf(ctx.sessions[i]!, call, ctx.produced[i]!, ctx.options);
  const first = JSON.stringify(outcomes[ctx.names[0]!]);
  if (ctx.names.some((n) => JSON.stringify(outcomes[n]) !== first)) throw new DivergenceFound(ctx.trace.length - 1, step, outcomes);
  // Every driver agreed: the model follows the oracle (it only resolves slots here; drivers are judged against each other).
  if (e.ok) model.apply(call, e, performance.now());
}

class LockstepCommand implements fc.AsyncCommand<SequenceModel, DiffContext> {
  constructor(
    readonly intent: Intent,
    private readonly maxInstances: number,
    private readonly options: ResolvedOptions,
    private readonly scope: CommandScope,
  ) {}

  check(s: Readonly<SequenceModel>): boolean {
    return canRun(s as SequenceModel, this.intent, this.maxInstances);
  }

  async run(s: SequenceModel, ctx: DiffContext): Promise<void> {
    const resolved = resolveIntent(s, this.intent, this.options, this.scope);
    for (const call of resolved instanceof Promise ? await resolved : resolved) await lockstep(ctx, s.model, call);
  }

  toString(): string {
    return describeIntent(this.intent);
  }
}

/** Capabilities every driver declares (the lowest level wins), bounds the largest. */
function commonCapabilities(all: DriverCapabilities[]): DriverCapabilities {
  const capabilities = {} as Record<CapabilityId, CapabilityDeclaration>;
  for (const id of CAPABILITY_IDS) capabilities[id] = all.every((c) => supports(c, id)) ? { level: 'complete' } : { level: 'missing' };
  return {
    capabilities,
    multiNode: all.every((c) => c.multiNode),
    volumeTransports: all.reduce<DriverCapabilities['volumeTransports']>((acc, c) => acc.filter((t) => c.volumeTransports.includes(t)), [...all[0]!.volumeTransports]),
    eventualConsistency: {
      resourceReleaseMs: Math.max(...all.map((c) => c.eventualConsistency.resourceReleaseMs)),
      eventDeliveryMs: Math.max(...all.map((c) => c.eventualConsistency.eventDeliveryMs)),
      nodeAvailableMs: Math.max(...all.map((c) => c.eventualConsistency.nodeAvailableMs)),
    },
  };
}

async function cleanAll(ctx: DiffContext, uuids: readonly string[], caps: DriverCapabilities): Promise<void> {
  for (let i = 0; i < ctx.sessions.length; i++) {
    const d = ctx.sessions[i]!.driver;
    for (const uuid of uuids) await d.destroy(uuid).catch(() => undefined);
    for (const id of ctx.produced[i]!) await d.deleteSnapshot(id).catch(() => undefined);
  }
  const bound = Math.max(caps.eventualConsistency.resourceReleaseMs, caps.eventualConsistency.nodeAvailableMs);
  if (bound > 0) await sleep(bound + ctx.options.settleTimeoutMs);
}

/**
 * Run the same generated sequences against two or more drivers in lockstep (commands
 * restricted to the capabilities all of them declare) and report the first step where
 * their observable outcomes differ (ok or error code, then getInfo of the instance:
 * power state, mode, name, metadata, volume and interface ids), shrunk by fast-check.
 */
export async function runDifferential(options: DifferentialOptions): Promise<DifferentialResult> {
  const names = Object.keys(options.drivers);
  if (names.length < 2) throw new RangeError('runDifferential needs at least two drivers');
  const resolved = resolveOptions(options);
  const t0 = performance.now();
  const sessions: Session[] = [];
  const release = keepAlive();
  try {
    for (const n of names) sessions.push(await Session.open(options.drivers[n]!, resolved));
    const caps = commonCapabilities(sessions.map((s) => s.caps));
    const scope = commandScope(caps, resolved, { crash: false, noState: false });
    const arbs = intentArbitraries(scope).map((a) => a.map((intent) => new LockstepCommand(intent, resolved.maxInstances, resolved, scope)));
    const arb = fc.record({ pools: poolsArb(resolved.maxInstances), cmds: fc.commands(arbs, { maxCommands: resolved.steps, size: 'max' }) });
    let last: { trace: StepRecord[]; calls: SequencedCall[]; error: DivergenceFound } | undefined;
    let steps = 0;
    /** Replay concrete calls in lockstep from a clean start; the divergence, if any. */
    const replay = async (calls: readonly SequencedCall[]): Promise<{ trace: StepRecord[]; calls: SequencedCall[]; error: DivergenceFound } | undefined> => {
      const baselines = await Promise.all(sessions.map((x) => x.baseline()));
      const model = new Model({ ...baselines[0]!, caps }, resolved.settleTimeoutMs);
      const ctx: DiffContext = { names, sessions, options: resolved, produced: sessions.map(() => []), trace: [], calls: [] };
      try {
        for (const call of calls) {
          if (unproduced(call, ctx.produced[0]!) !== undefined) return undefined;
          await lockstep(ctx, model, call);
        }
        return undefined;
      } catch (error) {
        if (error instanceof DivergenceFound) return { trace: ctx.trace, calls: ctx.calls, error };
        return undefined;
      } finally {
        const uuids = [...new Set(ctx.calls.map((c) => targetOf(c)).filter((u): u is string => u !== undefined))];
        await cleanAll(ctx, uuids, caps);
      }
    };
    /** Delta debugging over the concrete calls, keeping a divergence at the same operation. */
    const minimiseDivergence = async (found: NonNullable<typeof last>): Promise<NonNullable<typeof last>> => {
      let best = found;
      let budget = 200;
      let chunk = Math.max(1, Math.floor(best.calls.length / 2));
      for (;;) {
        let removed = false;
        for (let i = 0; i < best.calls.length && budget > 0 && best.calls.length > 1; ) {
          const candidate = [...best.calls.slice(0, i), ...best.calls.slice(i + chunk)];
          budget--;
          const r = candidate.length > 0 ? await replay(candidate) : undefined;
          if (r && r.error.step.op === found.error.step.op) {
            best = r;
            removed = true;
          } else {
            i += chunk;
          }
        }
        if (budget <= 0 || (chunk === 1 && !removed)) break;
        if (!removed || chunk > 1) chunk = Math.max(1, Math.floor(chunk / 2));
      }
      return best;
    };
    const finish = (found: typeof last, path: string): DifferentialResult => {
      const result: DifferentialResult = { drivers: names, runs: resolved.runs, steps, seed: resolved.seed, durationMs: performance.now() - t0 };
      if (found) {
        const { trace, calls, error } = found;
        const message = `${describeCall(calls[error.stepIndex]!)}: ${names.map((n) => `${n} -> ${JSON.stringify(error.outcomes[n])}`).join('; ')}`;
        result.divergence = {
          seed: resolved.seed,
          stepIndex: error.stepIndex,
          step: error.step,
          outcomes: error.outcomes,
          program: renderProgram(trace, { property: 'differential', message: `run against each of: ${names.join(', ')}\n${message}`, seed: resolved.seed, path }, {}),
          path,
          steps: trace,
        };
      }
      return result;
    };
    const property = fc.asyncProperty(arb, async ({ pools, cmds }) => {
      const baselines = await Promise.all(sessions.map((s) => s.baseline()));
      // The model resolves slots with the first driver's facts and the common capabilities.
      const model = new Model({ ...baselines[0]!, caps }, resolved.settleTimeoutMs);
      const ctx: DiffContext = { names, sessions, options: resolved, produced: sessions.map(() => []), trace: [], calls: [] };
      try {
        await fc.asyncModelRun(() => ({ model: { model, pools }, real: ctx }), cmds);
      } catch (error) {
        if (error instanceof DivergenceFound) last = { trace: ctx.trace, calls: ctx.calls, error };
        throw error;
      } finally {
        steps += ctx.trace.length;
        await cleanAll(ctx, pools.uuids, caps);
      }
    });
    // The table walk first, in lockstep: every reachable state x every common column.
    if (resolved.walk) {
      const baselines = await Promise.all(sessions.map((x) => x.baseline()));
      const model = new Model({ ...baselines[0]!, caps }, resolved.settleTimeoutMs);
      const ctx: DiffContext = { names, sessions, options: resolved, produced: sessions.map(() => []), trace: [], calls: [] };
      try {
        await walk({ model, options: resolved, scope, snapshots: () => model.snapshots.length }, (call) => lockstep(ctx, model, call));
      } catch (error) {
        if (!(error instanceof DivergenceFound)) throw error;
        last = { trace: ctx.trace, calls: ctx.calls, error };
      } finally {
        steps += ctx.trace.length;
        const uuids = [...new Set(ctx.calls.map((c) => targetOf(c)).filter((u): u is string => u !== undefined))];
        await cleanAll(ctx, uuids, caps);
      }
      if (last) return finish(await minimiseDivergence(last), '');
    }
    const details = await fc.check(property, { seed: resolved.seed, numRuns: resolved.runs, ...(resolved.path !== undefined ? { path: resolved.path } : {}) });
    if (details.failed && !last) throw details.errorInstance ?? new Error('differential run failed without a divergence');
    return finish(details.failed ? last : undefined, details.counterexamplePath ?? '');
  } finally {
    for (const s of sessions) await s.close().catch(() => undefined);
    release();
  }
}
