import { hostname } from 'node:os';
import { CONTRACT_VERSION, PROFILE_IDS, supportedProfiles, type CapabilityId, type DriverCapabilities, type RuleId } from '@nova-common/core';
import { checkLabel, resolveOptions, type ResolvedOptions, type RunOptions } from '../config.js';
import type { Counterexample, PropertyResult, RunResult } from '../result.js';
import { SUITE_VERSION } from '../version.js';
import { allProperties, HOST_PROPERTY_ID, CONCURRENCY_PROPERTY_IDS, MIGRATION_PROPERTY_IDS, SEQUENCE_PROPERTY_IDS, type PropertyDefinition, type PropertyId } from '../properties/catalog.js';
import { runMigrationStep } from './migration-step.js';
import { checkUnsupported, type FixedOutcome } from '../properties/unsupported.js';
import { checkErrorsSurface, checkSpawnAtomicFault } from '../properties/faults.js';
import { checkConcurrency } from '../properties/concurrency.js';
import { checkCancel } from '../properties/cancel.js';
import { checkHostDescription } from '../properties/host-description.js';
import { HostDescriptionError } from './open-error.js';
import { counterexampleOf, type Identity } from '../replay/replay.js';
import { renderProgram } from '../replay/program.js';
import { capabilityOfKey, runSequences, type SequencesOutcome } from './model-run.js';
import { commandScope } from './scope.js';
import { planProperties } from './plan.js';
import { Session, errorCode, errorMessage, keepAlive } from './session.js';
import { Violation } from './violation.js';
import { computeMatrix, exerciseOf } from './matrix-status.js';
import { coverageResult } from '../coverage/result.js';

export { computeMatrix } from './matrix-status.js';

export { planProperties, type PlannedProperty } from './plan.js';

function environment(): RunResult['environment'] {
  return { node: process.version, platform: process.platform, arch: process.arch, hostname: hostname(), ci: Boolean(process.env.CI) };
}

function fixedCounterexample(outcome: FixedOutcome, options: ResolvedOptions, identity: Identity, property: PropertyId): Counterexample {
  const v = outcome.violation!;
  const header = { property, rule: v.rule, message: v.message, seed: options.seed, path: '' };
  return { seed: options.seed, path: '', steps: outcome.trace, program: renderProgram(outcome.trace, header, identity), rule: v.rule, message: v.message };
}

/**
 * The matrix of a finished run: a capability is exercised when every one of its operations
 * was called (by the sequences, the table walk or a fixed property), whatever judged the calls.
 */
function matrixOf(
  caps: DriverCapabilities,
  results: PropertyResult[],
  failedCaps: Map<CapabilityId, string[]>,
  calls: ReadonlyMap<string, number>,
  observed: ReadonlySet<CapabilityId>,
): ReturnType<typeof computeMatrix> {
  const e = exerciseOf(calls, observed);
  return computeMatrix(caps, results, failedCaps, e.exercised, e.touched, e.notCalled);
}

/**
 * A property's work that threw: when the guard refused a driver's answer as a contract
 * violation (an invalid output read outside a judged step), the property fails with
 * R-GEN-OUTPUT and that read as its counterexample; anything else breaks the run as before.
 */
function invalidOutput(session: Session, property: PropertyId, error: unknown): FixedOutcome {
  if (!session.isContractViolation(error)) throw error;
  const e = error as { op?: string; code: string; message: string };
  const op = e.op ?? 'call';
  return {
    trace: [{ op, args: [], expected: { ok: true }, actual: { ok: false, error: e.code, message: e.message } }],
    violation: new Violation(property, 'R-GEN-OUTPUT', `${op} returned what the contract does not allow: ${e.message}`, op),
  };
}

/** Why a property did not run after the host's description failed. */
const NOT_RUN = `not run: ${HOST_PROPERTY_ID} failed, and every other property starts from what the driver says of its host`;

/** The results when the session could not open: the host property failed, every other one not run. */
function notRunAfter(defs: readonly PropertyDefinition[], cx: Counterexample): PropertyResult[] {
  return defs.map((def) => {
    const base = { id: def.id, title: def.title, since: def.since, rules: def.rules, capabilities: [] as CapabilityId[] };
    if (def.id === HOST_PROPERTY_ID) return { ...base, status: 'failed' as const, runs: 1, steps: cx.steps.length, durationMs: 0, counterexample: cx };
    return { ...base, status: 'skipped' as const, reason: NOT_RUN, runs: 0, steps: 0, durationMs: 0 };
  });
}

/** A run's result from its parts (summary counted here). */
function resultOf(
  options: RunOptions,
  resolved: ResolvedOptions,
  startedAt: Date,
  t0: number,
  parts: Pick<RunResult, 'properties' | 'capabilities' | 'stats' | 'coverage'> & { profiles: readonly string[] },
): RunResult {
  const { properties, profiles, ...rest } = parts;
  const supported = new Set(profiles);
  return {
    suiteVersion: SUITE_VERSION,
    contractVersion: CONTRACT_VERSION,
    driver: {
      name: options.name ?? 'driver',
      version: options.version ?? '0.0.0',
      ...(options.description !== undefined ? { description: options.description } : {}),
      ...(options.label !== undefined ? { label: options.label } : {}),
      ...(options.config !== undefined ? { config: options.config } : {}),
    },
    environment: environment(),
    startedAt: startedAt.toISOString(),
    durationMs: performance.now() - t0,
    seed: resolved.seed,
    runId: resolved.runId,
    options: { runs: resolved.runs, steps: resolved.steps, profiles: resolved.profiles, maxInstances: resolved.maxInstances },
    profiles: PROFILE_IDS.map((id) => ({ id, supported: supported.has(id) })),
    properties,
    summary: {
      passed: properties.filter((r) => r.status === 'passed').length,
      failed: properties.filter((r) => r.status === 'failed').length,
      skipped: properties.filter((r) => r.status === 'skipped').length,
    },
    ...rest,
  };
}

/** Run every applicable property against one driver and compute the support matrix. */
export async function runConformance(options: RunOptions): Promise<RunResult> {
  const resolved = resolveOptions(options);
  checkLabel(options.label);
  const identity: Identity = { ...options };
  const startedAt = new Date();
  const t0 = performance.now();
  const release = keepAlive();
  let session: Session;
  try {
    session = await Session.open(options.driver, resolved);
  } catch (error) {
    release();
    if (!(error instanceof HostDescriptionError)) throw error;
    // The driver's own answer was invalid: a failed property and a report, not a broken run.
    const v = error.violation();
    const steps = error.steps();
    const header = { property: HOST_PROPERTY_ID, rule: v.rule, message: v.message, seed: resolved.seed, path: '' };
    const cx: Counterexample = { seed: resolved.seed, path: '', steps, program: renderProgram(steps, header, identity), rule: v.rule, message: v.message };
    return resultOf(options, resolved, startedAt, t0, { properties: notRunAfter(allProperties(), cx), profiles: [], capabilities: [] });
  }
  const results: PropertyResult[] = [];
  const failedCaps = new Map<CapabilityId, string[]>();
  // Capabilities without operations of their own whose evidence the run saw.
  const observed = new Set<CapabilityId>();
  const noteFailure = (cap: CapabilityId | undefined, property: string): void => {
    if (!cap) return;
    const list = failedCaps.get(cap) ?? [];
    if (!list.includes(property)) list.push(property);
    failedCaps.set(cap, list);
  };
  try {
    const caps = session.caps;
    // P-RESTART makes a new driver with the factory: a driver instance cannot restart.
    const planned = planProperties(caps, typeof options.driver === 'function' ? resolved : { ...resolved, restart: false });
    const total = planned.length;
    let index = 0;
    const progress = (property: PropertyId, status: 'started' | 'passed' | 'failed' | 'skipped', runs?: number): void =>
      resolved.onProgress?.({ property, status, index, total, ...(runs !== undefined ? { runs } : {}) });

    // What the driver says of its host, first: every other property starts from it.
    const hostPlan = planned.find((p) => p.def.id === HOST_PROPERTY_ID)!;
    let hostFailed = false;
    {
      index++;
      const base = { id: hostPlan.def.id, title: hostPlan.def.title, since: hostPlan.def.since, rules: hostPlan.def.rules, capabilities: hostPlan.capabilities };
      if (hostPlan.skip !== undefined) {
        results.push({ ...base, status: 'skipped', reason: hostPlan.skip, runs: 0, steps: 0, durationMs: 0 });
      } else {
        progress(hostPlan.def.id, 'started');
        const start = performance.now();
        const outcome = await checkHostDescription(session);
        const stats = { runs: 1, steps: outcome.trace.length, durationMs: performance.now() - start };
        hostFailed = outcome.violation !== undefined;
        results.push(hostFailed ? { ...base, status: 'failed', ...stats, counterexample: fixedCounterexample(outcome, resolved, identity, hostPlan.def.id) } : { ...base, status: 'passed', ...stats });
        progress(hostPlan.def.id, hostFailed ? 'failed' : 'passed', 1);
      }
    }
    const plan = planned
      .filter((p) => p.def.id !== HOST_PROPERTY_ID)
      .map((p) => (hostFailed ? { ...p, skip: p.skip ?? NOT_RUN } : p));

    // Model sequences: one engine judges every model property.
    const modelPlan = plan.filter((p) => SEQUENCE_PROPERTY_IDS.includes(p.def.id));
    const modelActive = modelPlan.filter((p) => p.skip === undefined);
    let seq: SequencesOutcome | undefined;
    // A read the guard refused outside any judged step (an invalid list between sequences).
    let seqBroken: FixedOutcome | undefined;
    const seqStart = performance.now();
    if (modelActive.length > 0) {
      for (const p of modelActive) progress(p.def.id, 'started');
      const scope = commandScope(caps, resolved, { crash: resolved.simulate.crash !== undefined, noState: resolved.simulate.noState !== undefined });
      const factory = options.driver;
      const fresh = typeof factory === 'function' ? () => Session.open(factory, resolved, undefined, undefined, session.stats) : undefined;
      const first = modelActive[0]!.def.id;
      try {
        seq = await runSequences({ main: session, fresh }, resolved, scope, (runs) => progress(first, 'started', runs));
      } catch (error) {
        seqBroken = invalidOutput(session, 'P-MODEL-SEQUENCES', error);
      }
      // Images are exercised by every spawn (and rebuild/rescue); events by every judged transition;
      // out-of-band causes by the events that follow a simulated crash or lost state.
      if ((seq?.opCounts.get('spawn') ?? 0) > 0) observed.add('storage.image');
      if (session.events && seq !== undefined && seq.steps > 0 && modelActive.some((p) => p.def.id === 'P-EVENTS')) observed.add('event.lifecycle');
      if ((session.stats.opCounts.get('outOfBandEvent') ?? 0) > 0) observed.add('event.out-of-band');
      // Commands left out after they failed: their capability failed, whichever property saw it.
      for (const key of seq?.excluded ?? []) noteFailure(capabilityOfKey(key), `left out after ${key} failed`);
    }
    const seqMs = performance.now() - seqStart;
    for (const p of modelPlan) {
      index++;
      const base = { id: p.def.id, title: p.def.title, since: p.def.since, rules: p.def.rules, capabilities: p.capabilities };
      if (seqBroken !== undefined && p.skip === undefined) {
        if (p.def.id === 'P-MODEL-SEQUENCES') {
          results.push({ ...base, status: 'failed', runs: 1, steps: seqBroken.trace.length, durationMs: seqMs, counterexample: fixedCounterexample(seqBroken, resolved, identity, p.def.id) });
          noteFailure(capabilityOfKey(seqBroken.violation!.commandKey), p.def.id);
          progress(p.def.id, 'failed');
        } else {
          results.push({ ...base, status: 'skipped', reason: `not judged: ${seqBroken.violation!.message}`, runs: 0, steps: 0, durationMs: 0 });
          progress(p.def.id, 'skipped');
        }
        continue;
      }
      if (p.skip !== undefined || !seq) {
        results.push({ ...base, status: 'skipped', reason: p.skip ?? 'not run', runs: 0, steps: 0, durationMs: 0 });
        progress(p.def.id, 'skipped');
        continue;
      }
      if (p.def.id === 'P-EVENTS' && session.subscribeError !== undefined) {
        // event.lifecycle is declared, but subscribing failed: nothing else to judge.
        const message = `event.lifecycle is declared, but subscribeEvents threw ${errorCode(session.subscribeError)}: ${errorMessage(session.subscribeError)}`;
        const steps = [{ op: 'subscribeEvents', args: ['<listener>'], expected: { ok: true as const }, actual: { ok: false as const, error: errorCode(session.subscribeError), message } }];
        const rule: RuleId = 'R-EVENT-TRANSITION';
        const header = { property: p.def.id, rule, message, seed: resolved.seed, path: '' };
        results.push({ ...base, status: 'failed', runs: 0, steps: 0, durationMs: 0, counterexample: { seed: resolved.seed, path: '', steps, program: renderProgram(steps, header, identity), rule, message } });
        noteFailure('event.lifecycle', p.def.id);
        progress(p.def.id, 'failed');
        continue;
      }
      const failure = seq.failures.get(p.def.id);
      if (failure) {
        const cx = await counterexampleOf(failure, resolved.runId, identity, options.replayDir);
        results.push({ ...base, status: 'failed', runs: seq.runs, steps: seq.steps, durationMs: seqMs, counterexample: cx });
        const cap = p.def.id === 'P-EVENTS' ? 'event.lifecycle' : capabilityOfKey(failure.violation.commandKey);
        noteFailure(cap, p.def.id);
        progress(p.def.id, 'failed', seq.runs);
      } else if (seq.stoppedBy !== undefined) {
        results.push({ ...base, status: 'skipped', reason: `not judged: ${seq.stoppedBy}`, runs: seq.runs, steps: seq.steps, durationMs: seqMs });
        progress(p.def.id, 'skipped');
      } else {
        const notes = seq.excluded.length > 0 ? { reason: `judged without ${seq.excluded.join(', ')} (left out after they failed)` } : {};
        results.push({ ...base, status: 'passed', runs: seq.runs, steps: seq.steps, durationMs: seqMs, ...notes });
        progress(p.def.id, 'passed', seq.runs);
      }
    }

    // Fixed-script properties: fault injection and declared-missing capabilities.
    let salt = 1000;
    for (const p of plan.filter((x) => !SEQUENCE_PROPERTY_IDS.includes(x.def.id) && !(MIGRATION_PROPERTY_IDS as readonly PropertyId[]).includes(x.def.id))) {
      index++;
      salt += 1000;
      const base = { id: p.def.id, title: p.def.title, since: p.def.since, rules: p.def.rules, capabilities: p.capabilities };
      if (p.skip !== undefined) {
        results.push({ ...base, status: 'skipped', reason: p.skip, runs: 0, steps: 0, durationMs: 0 });
        progress(p.def.id, 'skipped');
        continue;
      }
      progress(p.def.id, 'started');
      const start = performance.now();
      const callsBefore = session.calls;
      if ((CONCURRENCY_PROPERTY_IDS as readonly PropertyId[]).includes(p.def.id)) {
        // Concurrent calls: lanes side by side, judged against every order of their calls.
        let c: Awaited<ReturnType<typeof checkConcurrency>>;
        try {
          c = await checkConcurrency(session, resolved, p.def.id === 'P-CONCURRENT-CALLS' ? 'calls' : 'instances', salt, identity);
        } catch (error) {
          const broken = invalidOutput(session, p.def.id, error);
          c = { runs: 1, violation: broken.violation, counterexample: fixedCounterexample(broken, resolved, identity, p.def.id) };
        }
        const stats = { runs: c.runs, steps: session.calls - callsBefore, durationMs: performance.now() - start };
        results.push(c.counterexample ? { ...base, status: 'failed', ...stats, counterexample: c.counterexample } : { ...base, status: 'passed', ...stats });
        if (c.violation) noteFailure(capabilityOfKey(c.violation.commandKey), p.def.id);
        progress(p.def.id, c.counterexample ? 'failed' : 'passed', c.runs);
        continue;
      }
      let outcome: FixedOutcome;
      try {
        if (p.def.id === 'P-SPAWN-ATOMIC-FAULT') outcome = await checkSpawnAtomicFault(session, resolved, salt);
        else if (p.def.id === 'P-ERRORS-SURFACE') outcome = await checkErrorsSurface(session, resolved, salt);
        else if (p.def.id === 'P-CANCEL') outcome = await checkCancel(session, resolved, salt);
        else outcome = await checkUnsupported(session, resolved, p.capabilities[0]!, salt);
      } catch (error) {
        outcome = invalidOutput(session, p.def.id, error);
      }
      const durationMs = performance.now() - start;
      const steps = session.calls - callsBefore;
      if (outcome.violation) {
        results.push({ ...base, status: 'failed', runs: 1, steps, durationMs, counterexample: fixedCounterexample(outcome, resolved, identity, p.def.id) });
        for (const c of p.capabilities) noteFailure(c, p.def.id);
        progress(p.def.id, 'failed', 1);
      } else {
        results.push({ ...base, status: 'passed', runs: 1, steps, durationMs });
        progress(p.def.id, 'passed', 1);
      }
    }

    // Two-host properties: the migration protocol, with the peer host when one is given.
    const migration = await runMigrationStep(session, resolved, plan);
    for (const r of migration.results) {
      index++;
      results.push(r);
      progress(r.id, r.status, r.runs);
    }
    for (const c of migration.observed) observed.add(c);
    for (const f of migration.failed) noteFailure(f.capability, f.property);

    return resultOf(options, resolved, startedAt, t0, {
      properties: results,
      profiles: supportedProfiles(caps),
      capabilities: matrixOf(caps, results, failedCaps, session.stats.opCounts, observed),
      stats: { steps: session.commands, calls: session.calls, modelMs: seqMs },
      ...(seq ? { coverage: coverageResult(seq.coverage, seq.steeredRuns, resolved.budget) } : {}),
    });
  } finally {
    try {
      await session.close();
    } finally {
      release();
    }
  }
}

