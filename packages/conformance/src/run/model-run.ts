import fc from 'fast-check';
import { OPERATIONS, semanticsFor, type CapabilityId, type InstanceSpecInput, type OperationName } from '@nova-common/core';
import type { ResolvedOptions } from '../config.js';
import type { StepRecord } from '../result.js';
import { SEQUENCE_OPS, type SequencedCall } from '../commands/call.js';
import { canRun, describeIntent, intentArbitraries, resolveIntent, type CommandScope, type Intent, type SequenceModel } from '../commands/intents.js';
import { poolsArb, type Pools } from '../model/arbitraries.js';
import { Model } from '../model/model.js';
import { OBSERVATION_PROPERTIES, type PropertyId } from '../properties/catalog.js';
import { newContext, type ExecContext } from './context.js';
import { execute } from './executor.js';
import { endOfSequence } from './observe.js';
import { walk } from './walk.js';
import type { Session } from './session.js';
import { finishSequence } from './finish.js';
import { minimise, type SessionSource } from './minimise.js';
import { Violation, isViolation } from './violation.js';
import { reachableCells } from '../coverage/cells.js';
import { BudgetMeter } from '../coverage/budget.js';
import { executeRecorded } from '../coverage/record.js';
import { steerArbitraries, type SteerContext } from '../coverage/steer.js';
import { CoverageTracker, type CoverageReport } from '../coverage/tracker.js';

/** One fast-check command: an intent, resolved against the model when it runs. */
class IntentCommand implements fc.AsyncCommand<SequenceModel, ExecContext> {
  constructor(
    readonly intent: Intent,
    private readonly maxInstances: number,
    private readonly options: ResolvedOptions,
    private readonly scope: CommandScope,
    private readonly coverage?: CoverageTracker,
  ) {}

  check(s: Readonly<SequenceModel>): boolean {
    return canRun(s as SequenceModel, this.intent, this.maxInstances);
  }

  async run(s: SequenceModel, ctx: ExecContext): Promise<void> {
    const resolved = resolveIntent(s, this.intent, this.options, this.scope);
    const calls = resolved instanceof Promise ? await resolved : resolved;
    for (const call of calls) await executeRecorded(this.coverage, ctx, call);
  }

  toString(): string {
    return describeIntent(this.intent);
  }
}

export { withoutCalls } from './minimise.js';

/** A shrunk failure of one property of the model run. */
export interface SequenceFailure {
  property: PropertyId;
  violation: Violation;
  /** The steps of the shrunk sequence, up to and including the failing one. */
  trace: StepRecord[];
  /** The calls of the shrunk sequence (the replay). */
  calls: SequencedCall[];
  /** The spec sent for each spawned uuid after adaptSpec. */
  sentSpecs: Map<string, InstanceSpecInput>;
  seed: number;
  path: string;
  /** fast-check's own rendering of the shrunk command list. */
  commands: string;
  /**
   * Shrinking: the first failing sequence's length; fast-check's shrink (sequences run) and
   * the minimisation over concrete calls (replays); the time from the first failure to the
   * minimal sequence.
   */
  shrink: { ms: number; runs: number; firstLength: number; replays: number };
}

export interface SequencesOutcome {
  failures: Map<PropertyId, SequenceFailure>;
  /** Generated sequences run, including shrinking (the table walk and the steering rounds are not counted). */
  runs: number;
  /** Model steps (calls) executed. */
  steps: number;
  /** Commands left out after they exposed a failure (so the other properties could be judged). */
  excluded: string[];
  /** Set when judging had to stop (a mandatory operation diverged): properties not failed are then not judged. */
  stoppedBy: string | undefined;
  /** Calls per operation. */
  opCounts: Map<string, number>;
  /** The cells of the semantics table and the error paths the walk and the sequences reached. */
  coverage: CoverageReport;
  /** Sequences run by steering rounds, after the configured ones (not in `runs`). */
  steeredRuns: number;
}

/** Coverage and steering of one model run (src/coverage). */
interface Steering {
  coverage: CoverageTracker;
  /** The steering commands' context; absent: no steering commands. */
  steer?: SteerContext;
  /** Asked before each sequence: true skips it (every cell reached, or the budget spent). */
  stop?: () => boolean;
}

interface CheckOnce {
  failure: SequenceFailure | undefined;
  runs: number;
}

/**
 * Where each sequence runs: with a driver factory, every sequence gets a fresh driver (its
 * own initHost/cleanupHost), so what one sequence breaks cannot leak into the next and
 * shrinking replays each candidate from the same start. With a driver instance, all
 * sequences share it (the teardown sweeps between them).
 */

async function checkOnce(
  source: SessionSource,
  options: ResolvedOptions,
  scope: CommandScope,
  disabled: ReadonlySet<PropertyId>,
  onSequence: ((runs: number) => void) | undefined,
  runsBefore: number,
  steering?: Steering,
): Promise<CheckOnce> {
  const commandArbs: fc.Arbitrary<fc.AsyncCommand<SequenceModel, ExecContext>>[] = intentArbitraries(scope).map((arb) =>
    arb.map((intent) => new IntentCommand(intent, scope.maxInstances, options, scope, steering?.coverage)),
  );
  if (steering?.steer) commandArbs.push(...steerArbitraries(steering.coverage.missing(), { ...steering.steer, scope }));
  const arb = fc.record({ pools: poolsArb(scope.maxInstances), cmds: fc.commands(commandArbs, { maxCommands: options.steps, size: 'max' }) });
  let target: PropertyId | undefined;
  let last: SequenceFailure | undefined;
  let runs = 0;
  let firstAt = 0;
  let firstRuns = 0;
  let firstLength = 0;
  const property = fc.asyncProperty(arb, async ({ pools, cmds }) => {
    if (steering?.stop?.() === true && target === undefined) return;
    runs++;
    onSequence?.(runsBefore + runs);
    const session = source.fresh ? await source.fresh() : source.main;
    try {
      return await sequence(session, pools, cmds);
    } finally {
      if (source.fresh) await session.close();
    }
  });
  const sequence = async (session: Session, pools: Pools, cmds: Iterable<fc.AsyncCommand<SequenceModel, ExecContext>>): Promise<void> => {
    const baseline = await session.baseline();
    const model = new Model(baseline, options.settleTimeoutMs);
    session.events?.clear();
    session.strayCursor = 0;
    const ctx = newContext(session, model, options, disabled);
    let failure: unknown;
    try {
      await fc.asyncModelRun(() => ({ model: { model, pools }, real: ctx }), cmds);
      await endOfSequence(ctx);
    } catch (error) {
      failure = error;
    }
    failure = await finishSequence(ctx, failure, source.fresh);
    if (failure === undefined) return;
    const violation = isViolation(failure)
      ? failure
      : new Violation('P-MODEL-SEQUENCES', 'R-GEN-ERRORS', `unexpected error: ${failure instanceof Error ? (failure.stack ?? failure.message) : String(failure)}`, ctx.calls.at(-1)?.op);
    // While shrinking, only failures of the property first found count: the shrunk
    // sequence is then minimal for that property, and the others are judged in a later round.
    if (target === undefined) {
      target = violation.property;
      firstAt = performance.now();
      firstRuns = runs;
      firstLength = ctx.trace.length;
    } else if (violation.property !== target) return;
    last = {
      property: violation.property,
      violation,
      trace: ctx.trace,
      calls: ctx.calls,
      sentSpecs: ctx.sentSpecs,
      seed: options.seed,
      path: '',
      commands: String(cmds),
      shrink: { ms: 0, runs: 0, firstLength, replays: 0 },
    };
    throw violation;
  };
  const details = await fc.check(property, {
    seed: options.seed,
    numRuns: options.runs,
    ...(options.path !== undefined ? { path: options.path } : {}),
  });
  if (!details.failed || last === undefined) return { failure: undefined, runs };
  const failure = last as SequenceFailure;
  failure.path = details.counterexamplePath ?? '';
  const shrinkRuns = runs - firstRuns;
  const replays = await minimise(source, options, disabled, failure);
  failure.shrink = { ms: performance.now() - firstAt, runs: shrinkRuns, firstLength, replays };
  return { failure, runs };
}

/** The table walk (walk.ts) as one sequence; a failure is minimised like a shrunk one. */
async function walkOnce(
  source: SessionSource,
  options: ResolvedOptions,
  scope: CommandScope,
  disabled: ReadonlySet<PropertyId>,
  coverage?: CoverageTracker,
): Promise<SequenceFailure | undefined> {
  const session = source.fresh ? await source.fresh() : source.main;
  let ctx: ExecContext;
  let failure: unknown;
  try {
    const model = new Model(await session.baseline(), options.settleTimeoutMs);
    session.events?.clear();
    session.strayCursor = 0;
    ctx = newContext(session, model, options, disabled);
    const c = ctx;
    try {
      await walk({ model, options, scope, snapshots: () => model.snapshots.length }, (call) => executeRecorded(coverage, c, call));
      await endOfSequence(c);
    } catch (error) {
      failure = error;
    }
    failure = await finishSequence(c, failure, source.fresh);
  } finally {
    if (source.fresh) await session.close();
  }
  if (failure === undefined) return undefined;
  const violation = isViolation(failure)
    ? failure
    : new Violation('P-MODEL-SEQUENCES', 'R-GEN-ERRORS', `unexpected error in the table walk: ${failure instanceof Error ? (failure.stack ?? failure.message) : String(failure)}`, ctx.calls.at(-1)?.op);
  const result: SequenceFailure = {
    property: violation.property,
    violation,
    trace: ctx.trace,
    calls: ctx.calls,
    sentSpecs: ctx.sentSpecs,
    seed: options.seed,
    path: '',
    commands: 'table walk',
    shrink: { ms: 0, runs: 0, firstLength: ctx.trace.length, replays: 0 },
  };
  const t0 = performance.now();
  result.shrink.replays = await minimise(source, options, disabled, result);
  result.shrink.ms = performance.now() - t0;
  return result;
}

/** Capabilities a command key exercises (for the support matrix). */
export function capabilityOfKey(key: string | undefined): CapabilityId | undefined {
  if (key === undefined) return undefined;
  const op = key.startsWith('spawn:') ? 'spawn' : key;
  if (op in OPERATIONS) return OPERATIONS[op as OperationName].capability ?? undefined;
  return undefined;
}

/** Commands that can never be left out: the mandatory operations (without them nothing else can be judged). */
const MANDATORY_KEYS: ReadonlySet<string> = new Set(SEQUENCE_OPS.filter((op) => OPERATIONS[op].mandatory));

/**
 * Run the model sequences until every model property is judged. The first failure is
 * shrunk for its property; then that property's checks are turned off (observations) or the
 * command that exposed it is left out (outcome divergences), and the sequences run again to
 * judge the rest. Stops when a run passes, or when a mandatory operation diverges.
 */
export async function runSequences(
  source: SessionSource,
  options: ResolvedOptions,
  baseScope: CommandScope,
  onSequence?: (runs: number) => void,
): Promise<SequencesOutcome> {
  const session = source.main;
  const failures = new Map<PropertyId, SequenceFailure>();
  const disabled = new Set<PropertyId>();
  const excluded = new Set<string>(baseScope.excluded);
  let runs = 0;
  const stepsBefore = session.commands;
  let stoppedBy: string | undefined;
  const table = semanticsFor(options.contractBaseline);
  const coverage = new CoverageTracker(reachableCells(baseScope, table));
  const steer: SteerContext = { options, scope: baseScope, table, coverage };
  let meter: BudgetMeter | undefined;
  let steeredRuns = 0;
  let steerRound = 0;
  for (let round = 0; round < 12; round++) {
    const scope = { ...baseScope, excluded };
    let failure = options.walk ? await walkOnce(source, options, scope, disabled, coverage) : undefined;
    if (!failure) {
      // The configured sequences are drawn as without steering (a seed runs the same cases).
      const once = await checkOnce(source, options, scope, disabled, onSequence, runs + steeredRuns, { coverage });
      failure = once.failure;
      runs += once.runs;
    }
    // Steering rounds (src/coverage): while reachable cells are missing and the budget lasts,
    // more sequences aimed at them, each round from its own seed. Not when replaying one path.
    while (!failure && !coverage.complete && options.path === undefined && steerRound < MAX_STEER_ROUNDS) {
      const m = (meter ??= new BudgetMeter(options.budget, () => session.commands));
      if (m.spent) break;
      steerRound++;
      const roundOptions = { ...options, seed: steerSeed(options.seed, steerRound), runs: Math.max(1, Math.ceil(options.runs / 10)) };
      const once = await checkOnce(source, roundOptions, scope, disabled, onSequence, runs + steeredRuns, { coverage, steer, stop: () => coverage.complete || m.spent });
      failure = once.failure;
      steeredRuns += once.runs;
    }
    if (!failure) break;
    if (!failures.has(failure.property)) failures.set(failure.property, failure);
    const key = failure.violation.commandKey;
    if (OBSERVATION_PROPERTIES.has(failure.property) && !disabled.has(failure.property) && !failure.violation.diverged) {
      disabled.add(failure.property);
      continue;
    }
    if (key === undefined || MANDATORY_KEYS.has(key) || excluded.has(key)) {
      stoppedBy = `${failure.property} failed on ${key ?? 'an unknown command'}, which cannot be left out`;
      break;
    }
    excluded.add(key);
  }
  return {
    failures,
    runs,
    steps: session.commands - stepsBefore,
    excluded: [...excluded].filter((k) => !baseScope.excluded.has(k)),
    stoppedBy,
    opCounts: new Map(session.opCounts),
    coverage: coverage.report(),
    steeredRuns,
  };
}

/** Most steering rounds of one run, whatever the budget (a budget of time on a driver that never gets there). */
const MAX_STEER_ROUNDS = 200;

/** The seed of a steering round: the run's seed moved by the round number. */
export function steerSeed(seed: number, round: number): number {
  return (seed + Math.imul(round, 0x9e3779b1)) | 0;
}
