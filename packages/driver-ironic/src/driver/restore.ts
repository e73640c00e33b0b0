/**
 * restoreState: bring an instance back to the state its caller last asked for, after Ironic or
 * the host restarted. Bare metal keeps its physical power across a conductor restart (fake
 * hardware keeps the power state in the database), so the instance is usually where it was; the
 * driver converges from whatever it finds, following the table's restoreState columns:
 *
 *   RUNNING   power on (from CRASHED: the node is recovered first, recovery.ts)
 *   SHUTDOWN  soft power off bounded by softTimeoutS, then hard (from CRASHED: recovered first)
 *   PAUSED, SUSPENDED  UNSUPPORTED: bare metal has no paused or suspended state (pause and
 *             suspend are declared missing), so neither can be restored; refused before the
 *             instance is even looked up, as a missing capability is (R-GEN-ORDER).
 *
 * RESCUE is INVALID_STATE (the table), and no saved memory image exists on bare metal to lose or
 * to invent.
 */
import { columnOfCall, errors, type RestorableState } from '@nova-common/core';
import { withContractErrors, type IronicContext } from './context.js';
import { bringOff, bringOn } from './power.js';

/** The capability a desired state needs beyond operation.restore-state; declared missing on bare metal. */
const MISSING_FOR: Partial<Record<RestorableState, string>> = {
  PAUSED: 'operation.pause',
  SUSPENDED: 'operation.suspend',
};

export async function restoreState(ctx: IronicContext, uuid: string, desired: RestorableState, signal?: AbortSignal): Promise<void> {
  const op = 'restoreState';
  const missing = MISSING_FOR[desired];
  if (missing !== undefined) throw errors.unsupported(missing, op);
  const column = columnOfCall('restoreState', [uuid, desired])!;
  const { node, noop, state } = await ctx.enter(op, column, uuid, signal);
  if (noop) return;
  await withContractErrors({ op, target: uuid, currentState: state }, async () => {
    const done =
      desired === 'RUNNING'
        ? await bringOn(ctx, op, uuid, node, state, signal)
        : await bringOff(ctx, op, uuid, node, state, ctx.config.softTimeoutS * 1000, signal);
    ctx.events.afterTransition(uuid, state, done);
  });
}
