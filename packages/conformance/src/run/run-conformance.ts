import { hostname } from 'node:os';
import {
  CAPABILITY_IDS,
  CONTRACT_VERSION,
  OPERATIONS,
  compareVersions,
  PROFILE_IDS,
  supportedProfiles,
  supports,
  type CapabilityId,
  type DriverCapabilities,
  type OperationName,
  type RuleId,
} from '@nova-common/core';
import { checkLabel, resolveOptions, type ResolvedOptions, type RunOptions } from '../config.js';
import type { CapabilityResult, Counterexample, PropertyResult, RunResult } from '../result.js';
import { SUITE_VERSION } from '../version.js';
import { allProperties, CONCURRENCY_PROPERTY_IDS, SEQUENCE_PROPERTY_IDS, unsupportedPropertyId, type PropertyDefinition, type PropertyId } from '../properties/catalog.js';
import { checkUnsupported, type FixedOutcome } from '../properties/unsupported.js';
import { checkErrorsSurface, checkSpawnAtomicFault, faultPair } from '../properties/faults.js';
import { checkConcurrency, concurrencyCapabilities } from '../properties/concurrency.js';
import { checkCancel } from '../properties/cancel.js';
import { counterexampleOf, type Identity } from '../replay/replay.js';
import { renderProgram } from '../replay/program.js';
import { capabilityOfKey, runSequences, type SequencesOutcome } from './model-run.js';
import { allowedCapabilities, commandScope } from './scope.js';
import { Session, errorCode, errorMessage, keepAlive } from './session.js';
import { computeMatrix, exerciseOf } from './matrix-status.js';
import { coverageResult } from '../coverage/result.js';

export { computeMatrix } from './matrix-status.js';

/** The capability an operation needs (the mandatory ones always have one). */
const capabilityOf = (op: OperationName): CapabilityId => OPERATIONS[op].capability!;

/** Capabilities exercised by the model sequences: the declared ones (within the profile filter). */
function modelCapabilities(caps: DriverCapabilities, allowed: Set<CapabilityId> | undefined): CapabilityId[] {
  return CAPABILITY_IDS.filter((c) => supports(caps, c) && (allowed === undefined || allowed.has(c)));
}

export interface PlannedProperty {
  def: PropertyDefinition;
  capabilities: CapabilityId[];
  /** Why it will not run, when it will not. */
  skip?: string;
}

/**
 * Which properties apply to a driver with these capabilities and options, without running
 * anything (the CLI's `list`). A property introduced after the driver's contract baseline
 * (default: the current contract) is skipped: the driver does not claim it (R-BASELINE).
 */
export function planProperties(
  caps: DriverCapabilities,
  options: Pick<ResolvedOptions, 'profiles' | 'only'> & Partial<Pick<ResolvedOptions, 'contractBaseline' | 'restart' | 'witness'>>,
): PlannedProperty[] {
  const allowed = allowedCapabilities(options.profiles);
  const modelCaps = modelCapabilities(caps, allowed);
  const baseline = options.contractBaseline ?? CONTRACT_VERSION;
  const out: PlannedProperty[] = [];
  for (const def of allProperties()) {
    let capabilities: CapabilityId[] = [];
    let skip: string | undefined;
    const m = /^P-UNSUPPORTED-(.+)$/.exec(def.id);
    if (m) {
      const cap = m[1] as CapabilityId;
      capabilities = [cap];
      if (supports(caps, cap)) skip = `${cap} is declared ${caps.capabilities[cap]?.level}`;
      else if (allowed && !allowed.has(cap)) skip = `${cap} is outside the selected profiles`;
    } else if (def.id === 'P-EVENTS') {
      capabilities = ['event.lifecycle'];
      if (!supports(caps, 'event.lifecycle')) skip = 'event.lifecycle is not declared';
      else if (allowed && !allowed.has('event.lifecycle')) skip = 'event.lifecycle is outside the selected profiles';
    } else if (def.id === 'P-MODEL-SEQUENCES' || def.id === 'P-IDEMPOTENT-REPEAT') {
      capabilities = modelCaps.filter((c) => c !== 'event.lifecycle');
    } else if (def.id === 'P-INFO-UNKNOWN' || def.id === 'P-LIST-OWNED') {
      capabilities = [...new Set([capabilityOf('getInfo'), capabilityOf('listInstances')])];
    } else if (def.id === 'P-INVENTORY' || def.id === 'P-TEARDOWN-CLEAN') {
      capabilities = [capabilityOf('spawn'), capabilityOf('destroy')];
    } else if (def.id === 'P-RESTART') {
      capabilities = [...new Set([capabilityOf('spawn'), capabilityOf('getInfo'), capabilityOf('listInstances')])];
      if (options.restart !== true) skip = 'needs a driver factory, and a witness or restart: true (a driver whose host is its own memory cannot restart)';
    } else if (def.id === 'P-BACKEND-WITNESS') {
      capabilities = [capabilityOf('spawn'), capabilityOf('destroy')];
      if (options.witness === undefined) skip = "no witness given (the driver's conformance fixtures offer none)";
    } else if (def.id === 'P-SPAWN-ATOMIC' || def.id === 'P-SPAWN-ATOMIC-FAULT') {
      capabilities = [capabilityOf('spawn')];
    } else if ((CONCURRENCY_PROPERTY_IDS as readonly PropertyId[]).includes(def.id)) {
      capabilities = concurrencyCapabilities(caps, options);
    } else if (def.id === 'P-CANCEL') {
      capabilities = [...new Set([capabilityOf('spawn'), capabilityOf('destroy'), ...(supports(caps, capabilityOf('powerOff')) ? [capabilityOf('powerOff')] : [])])];
    } else if (def.id === 'P-ERRORS-SURFACE') {
      const [op, inverse] = faultPair(caps, allowed);
      capabilities = [...new Set([op, ...(inverse === undefined ? [] : [inverse])].map(capabilityOf))];
    }
    // What the driver's contract predates it does not claim, whatever it declares (R-BASELINE).
    if (compareVersions(def.since, baseline) > 0) {
      skip = `introduced in contract ${def.since}; the driver's contract (baseline ${baseline}) predates it (R-BASELINE)`;
    }
    if (options.only && !options.only.includes(def.id)) skip ??= 'not selected (only)';
    out.push({ def, capabilities, ...(skip !== undefined ? { skip } : {}) });
  }
  return out;
}

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
    throw error;
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
    const plan = planProperties(caps, typeof options.driver === 'function' ? resolved : { ...resolved, restart: false });
    const total = plan.length;
    let index = 0;
    const progress = (property: PropertyId, status: 'started' | 'passed' | 'failed' | 'skipped', runs?: number): void =>
      resolved.onProgress?.({ property, status, index, total, ...(runs !== undefined ? { runs } : {}) });

    // Model sequences: one engine judges every model property.
    const modelPlan = plan.filter((p) => SEQUENCE_PROPERTY_IDS.includes(p.def.id));
    const modelActive = modelPlan.filter((p) => p.skip === undefined);
    let seq: SequencesOutcome | undefined;
    const seqStart = performance.now();
    if (modelActive.length > 0) {
      for (const p of modelActive) progress(p.def.id, 'started');
      const scope = commandScope(caps, resolved, { crash: resolved.simulate.crash !== undefined, noState: resolved.simulate.noState !== undefined });
      const factory = options.driver;
      const fresh = typeof factory === 'function' ? () => Session.open(factory, resolved, undefined, undefined, session.stats) : undefined;
      const first = modelActive[0]!.def.id;
      seq = await runSequences({ main: session, fresh }, resolved, scope, (runs) => progress(first, 'started', runs));
      // Images are exercised by every spawn (and rebuild/rescue); events by every judged transition;
      // out-of-band causes by the events that follow a simulated crash or lost state.
      if ((seq.opCounts.get('spawn') ?? 0) > 0) observed.add('storage.image');
      if (session.events && seq.steps > 0 && modelActive.some((p) => p.def.id === 'P-EVENTS')) observed.add('event.lifecycle');
      if ((session.stats.opCounts.get('outOfBandEvent') ?? 0) > 0) observed.add('event.out-of-band');
      // Commands left out after they failed: their capability failed, whichever property saw it.
      for (const key of seq.excluded) noteFailure(capabilityOfKey(key), `left out after ${key} failed`);
    }
    const seqMs = performance.now() - seqStart;
    for (const p of modelPlan) {
      index++;
      const base = { id: p.def.id, title: p.def.title, since: p.def.since, rules: p.def.rules, capabilities: p.capabilities };
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
    for (const p of plan.filter((x) => !SEQUENCE_PROPERTY_IDS.includes(x.def.id))) {
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
        const c = await checkConcurrency(session, resolved, p.def.id === 'P-CONCURRENT-CALLS' ? 'calls' : 'instances', salt, identity);
        const stats = { runs: c.runs, steps: session.calls - callsBefore, durationMs: performance.now() - start };
        results.push(c.counterexample ? { ...base, status: 'failed', ...stats, counterexample: c.counterexample } : { ...base, status: 'passed', ...stats });
        if (c.violation) noteFailure(capabilityOfKey(c.violation.commandKey), p.def.id);
        progress(p.def.id, c.counterexample ? 'failed' : 'passed', c.runs);
        continue;
      }
      let outcome: FixedOutcome;
      if (p.def.id === 'P-SPAWN-ATOMIC-FAULT') outcome = await checkSpawnAtomicFault(session, resolved, salt);
      else if (p.def.id === 'P-ERRORS-SURFACE') outcome = await checkErrorsSurface(session, resolved, salt);
      else if (p.def.id === 'P-CANCEL') outcome = await checkCancel(session, resolved, salt);
      else outcome = await checkUnsupported(session, resolved, p.capabilities[0]!, salt);
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

    const summary = {
      passed: results.filter((r) => r.status === 'passed').length,
      failed: results.filter((r) => r.status === 'failed').length,
      skipped: results.filter((r) => r.status === 'skipped').length,
    };
    const supported = new Set(supportedProfiles(caps));
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
      capabilities: matrixOf(caps, results, failedCaps, session.stats.opCounts, observed),
      properties: results,
      summary,
      stats: { steps: session.commands, calls: session.calls, modelMs: seqMs },
      ...(seq ? { coverage: coverageResult(seq.coverage, seq.steeredRuns, resolved.budget) } : {}),
    };
  } finally {
    try {
      await session.close();
    } finally {
      release();
    }
  }
}

