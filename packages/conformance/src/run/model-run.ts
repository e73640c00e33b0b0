import fc from 'fast-check';
import { OPERATIONS, type CapabilityId, type InstanceSpecInput, type OperationName } from '@nova-common/core';
import type { ResolvedOptions } from '../config.js';
import type { StepRecord } from '../result.js';
import type { SequencedCall } from '../commands/call.js';
import { canRun, describeIntent, intentArbitraries, resolveIntent, type CommandScope, type Intent, type SequenceModel } from '../commands/intents.js';
import { poolsArb, type Pools } from '../model/arbitraries.js';
import { Model } from '../model/model.js';
import { OBSERVATION_PROPERTIES } from '../properties/catalog.js';
import { execute, type ExecContext } from './executor.js';
import { endOfSequence } from './observe.js';
import type { Session } from './session.js';
import { teardown } from './teardown.js';
import { Violation, isViolation } from './violation.js';

/** One fast-check command: an intent, resolved against the model when it runs. */
class IntentCommand implements fc.AsyncCommand<SequenceModel, ExecContext> {
  constructor(
    readonly intent: Intent,
    private readonly maxInstances: number,
    private readonly options: ResolvedOptions,
  ) {}

  check(s: Readonly<SequenceModel>): boolean {
    return canRun(s as SequenceModel, this.intent, this.maxInstances);
  }

  async run(s: SequenceModel, ctx: ExecContext): Promise<void> {
    const calls = await resolveIntent(s, this.intent, this.options);
    for (const call of calls) await execute(ctx, call);
  }

  toString(): string {
    return describeIntent(this.intent);
  }
}

/** A shrunk failure of one property of the model run. */
export interface SequenceFailure {
  property: string;
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
  /** Shrinking: from the first failing sequence (its length) to the shrunk one, in time and sequences run. */
  shrink: { ms: number; runs: number; firstLength: number };
}

export interface SequencesOutcome {
  failures: Map<string, SequenceFailure>;
  /** Sequences run, including shrinking. */
  runs: number;
  /** Model steps (calls) executed. */
  steps: number;
  /** Commands left out after they exposed a failure (so the other properties could be judged). */
  excluded: string[];
  /** Set when judging had to stop (a mandatory operation diverged): properties not failed are then not judged. */
  stoppedBy: string | undefined;
  /** Calls per operation. */
  opCounts: Map<string, number>;
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
export type SessionSource = { main: Session; fresh: (() => Promise<Session>) | undefined };

async function checkOnce(
  source: SessionSource,
  options: ResolvedOptions,
  scope: CommandScope,
  disabled: ReadonlySet<string>,
  onSequence: ((runs: number) => void) | undefined,
  runsBefore: number,
): Promise<CheckOnce> {
  const commandArbs = intentArbitraries(scope).map((arb) => arb.map((intent) => new IntentCommand(intent, scope.maxInstances, options)));
  const arb = fc.record({ pools: poolsArb(scope.maxInstances), cmds: fc.commands(commandArbs, { maxCommands: options.steps, size: 'max' }) });
  let target: string | undefined;
  let last: SequenceFailure | undefined;
  let runs = 0;
  let firstAt = 0;
  let firstRuns = 0;
  let firstLength = 0;
  const property = fc.asyncProperty(arb, async ({ pools, cmds }) => {
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
    const ctx: ExecContext = { session, model, options, trace: [], calls: [], produced: [], disabled, sentSpecs: new Map() };
    let failure: unknown;
    try {
      await fc.asyncModelRun(() => ({ model: { model, pools }, real: ctx }), cmds);
      if (options.observe === 'changes') await endOfSequence(ctx);
    } catch (error) {
      failure = error;
    }
    const clean = await teardown(ctx, failure === undefined);
    failure ??= clean;
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
      shrink: { ms: 0, runs: 0, firstLength },
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
  failure.shrink = { ms: performance.now() - firstAt, runs: runs - firstRuns, firstLength };
  return { failure, runs };
}

/** Capabilities a command key exercises (for the support matrix). */
export function capabilityOfKey(key: string | undefined): CapabilityId | undefined {
  if (key === undefined) return undefined;
  const op = key.startsWith('spawn:') ? 'spawn' : key;
  if (op in OPERATIONS) return OPERATIONS[op as OperationName].capability ?? undefined;
  return undefined;
}

const MANDATORY_KEYS = new Set(['spawn', 'destroy', 'getInfo']);

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
  const failures = new Map<string, SequenceFailure>();
  const disabled = new Set<string>();
  const excluded = new Set<string>(baseScope.excluded);
  let runs = 0;
  const stepsBefore = session.commands;
  let stoppedBy: string | undefined;
  for (let round = 0; round < 12; round++) {
    const { failure, runs: n } = await checkOnce(source, options, { ...baseScope, excluded }, disabled, onSequence, runs);
    runs += n;
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
  };
}
