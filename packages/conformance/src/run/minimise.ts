import type { ResolvedOptions } from '../config.js';
import type { StepRecord } from '../result.js';
import { producesImage, renumberImages, type SequencedCall } from '../commands/call.js';
import { Model } from '../model/model.js';
import type { PropertyId } from '../properties/catalog.js';
import { newContext, type ExecContext } from './context.js';
import { execute } from './executor.js';
import { finishSequence } from './finish.js';
import type { SequenceFailure } from './model-run.js';
import { endOfSequence } from './observe.js';
import type { Session } from './session.js';
import { isViolation, type Violation } from './violation.js';

/** Where a sequence runs: the run's session, or a fresh driver per sequence (P-RESTART, a witness). */
export type SessionSource = { main: Session; fresh: (() => Promise<Session>) | undefined };

/** Run concrete calls in a fresh sequence (as a replay does) and return the first violation. */
async function runCalls(
  source: SessionSource,
  options: ResolvedOptions,
  disabled: ReadonlySet<PropertyId>,
  calls: readonly SequencedCall[],
): Promise<{ violation: Violation | undefined; ctx: ExecContext }> {
  const session = source.fresh ? await source.fresh() : source.main;
  try {
    const model = new Model(await session.baseline(), options.settleTimeoutMs);
    session.events?.clear();
    session.strayCursor = 0;
    const ctx = newContext(session, model, options, disabled);
    let failure: unknown;
    try {
      for (const call of calls) await execute(ctx, call);
      await endOfSequence(ctx);
    } catch (error) {
      failure = error;
    }
    failure = await finishSequence(ctx, failure, source.fresh);
    return { violation: isViolation(failure) ? failure : undefined, ctx };
  } finally {
    if (source.fresh) await session.close();
  }
}

/**
 * Whether a candidate's violation is the same failure: same property and rule, and not an
 * INVALID_INPUT the original did not have (removing calls can make a later call's arguments
 * wrong, e.g. a volume extended to less than its size, which is no bug of the driver).
 */
function sameFailure(candidate: Violation, original: Violation): boolean {
  if (candidate.property !== original.property || candidate.rule !== original.rule) return false;
  const invalid = (v: Violation): boolean => v.actual === 'INVALID_INPUT' || /INVALID_INPUT/.test(v.message);
  return !invalid(candidate) || invalid(original);
}

/**
 * The calls without `count` calls from `from`, with later `{ produced: n }` references
 * renumbered past the images the removed calls made (a call made an image when its step in
 * `trace` succeeded), so that removing an unrelated snapshot keeps a later deleteSnapshot
 * naming the same image. Undefined when a kept call names an image a removed call made.
 */
export function withoutCalls(calls: readonly SequencedCall[], trace: readonly StepRecord[], from: number, count: number): SequencedCall[] | undefined {
  const removedImages: number[] = [];
  let images = 0;
  for (let i = 0; i < from + count && i < calls.length; i++) {
    if (!producesImage(calls[i]!.op) || trace[i]?.actual?.ok !== true) continue;
    if (i >= from) removedImages.push(images);
    images++;
  }
  if (removedImages.length === 0) return [...calls.slice(0, from), ...calls.slice(from + count)];
  const renumber = (n: number): number | undefined => (removedImages.includes(n) ? undefined : n - removedImages.filter((r) => r < n).length);
  const kept: SequencedCall[] = [...calls.slice(0, from)];
  for (const call of calls.slice(from + count)) {
    const renumbered = renumberImages(call, renumber);
    if (renumbered === undefined) return undefined;
    kept.push(renumbered);
  }
  return kept;
}

/** Most replays spent minimising one counterexample's calls. */
const MINIMISE_BUDGET = 400;

/**
 * After fast-check's shrinking, remove calls from the concrete sequence as long as the same
 * property still fails: chunks of half the sequence first, then smaller ones, down to single
 * calls (delta debugging). fast-check shrinks the generated commands, whose meaning can depend
 * on what came before (live-instance and coverage-directed targets); the concrete calls do
 * not, so this finds the few calls that matter. The result is what the replay file and the
 * program contain.
 */
export async function minimise(source: SessionSource, options: ResolvedOptions, disabled: ReadonlySet<PropertyId>, failure: SequenceFailure): Promise<number> {
  let calls = failure.calls;
  let budget = MINIMISE_BUDGET;
  let chunk = Math.max(1, Math.floor(calls.length / 2));
  for (;;) {
    let removed = false;
    for (let i = 0; i < calls.length && budget > 0 && calls.length > 1; ) {
      const candidate = withoutCalls(calls, failure.trace, i, chunk);
      if (candidate === undefined) {
        // A kept call names an image a removed call made: not a candidate.
        i += chunk;
        continue;
      }
      if (candidate.length === 0) break;
      budget--;
      const { violation, ctx } = await runCalls(source, options, disabled, candidate);
      if (violation && sameFailure(violation, failure.violation)) {
        calls = ctx.calls.length < candidate.length ? ctx.calls : candidate;
        failure.calls = ctx.calls;
        failure.trace = ctx.trace;
        failure.violation = violation;
        failure.sentSpecs = ctx.sentSpecs;
        removed = true;
      } else {
        i += chunk;
      }
    }
    if (budget <= 0) break;
    if (chunk === 1 && !removed) break;
    if (!removed || chunk > 1) chunk = Math.max(1, Math.floor(chunk / 2));
  }
  return MINIMISE_BUDGET - budget;
}

