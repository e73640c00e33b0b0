import type { SequencedCall } from '../commands/call.js';
import { columnOf, targetOf } from '../commands/call.js';
import type { ExecContext } from '../run/context.js';
import { execute } from '../run/executor.js';
import type { CoverageTracker } from './tracker.js';

/**
 * `execute` that also records the call's cell (its target's state in the model just before
 * the call, and its column) and, when the model expected an error, the operation's error path.
 * Simulations (crash, lost state) have no column and count for nothing.
 */
export async function executeRecorded(coverage: CoverageTracker | undefined, ctx: ExecContext, call: SequencedCall): Promise<void> {
  if (coverage === undefined) return execute(ctx, call);
  const target = targetOf(call);
  const column = columnOf(call);
  const state = target === undefined ? undefined : ctx.model.stateOf(target);
  const traced = ctx.trace.length;
  try {
    await execute(ctx, call);
  } finally {
    // Only a call that reached the driver counts (its step is in the trace).
    const step = ctx.trace.length > traced ? ctx.trace[traced] : undefined;
    if (step !== undefined) {
      if (state !== undefined && column !== undefined) coverage.hitCell(state, column);
      if (step.expected?.ok === false) coverage.hitError(call.op, step.expected.error);
    }
  }
}
