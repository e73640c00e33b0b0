import { DriverError, columnOfCall, type RestorableState, type TableOperation } from '@nova-common/core';
import type { EngineContext } from './context.js';
import { bringDown, startOf, transition } from './power.js';

/**
 * restoreState: after the engine (or the host) restarts, every container comes back stopped (there
 * is no restart policy: power state is the driver's), SHUTDOWN after the engine's own SIGTERM, CRASHED
 * when it had to be killed; the orchestrator asks for the state it last wanted, and the table's
 * restoreState<Desired> column decides (core's enforceCell):
 *
 *   RUNNING   start (from SHUTDOWN, CRASHED, NOSTATE); unpause (from PAUSED)
 *   PAUSED    start, then pause (from SHUTDOWN, CRASHED, NOSTATE); pause (from RUNNING)
 *   SHUTDOWN  as power off with the configured grace period: a PAUSED one is killed at once, a CRASHED
 *             one is only recorded as SHUTDOWN (nothing runs; it is not started to be stopped)
 *   SUSPENDED UNSUPPORTED in every state: a container has no saved memory image (operation.suspend is
 *             declared missing), so no instance of this driver is ever SUSPENDED and none can be made so.
 *             Refused before the instance is looked up, as a missing capability is (R-GEN-ORDER).
 */
export async function restoreState(ctx: EngineContext, uuid: string, desired: RestorableState, signal?: AbortSignal): Promise<void> {
  if (desired === 'SUSPENDED') {
    throw new DriverError('UNSUPPORTED', {
      op: 'restoreState',
      target: uuid,
      capability: 'operation.suspend',
      detail: 'containers have no saved memory image (operation.suspend is missing): no instance is or can be made SUSPENDED',
    });
  }
  const column = columnOfCall('restoreState', [uuid, desired]) as TableOperation;
  await transition(ctx, { op: 'restoreState', column, uuid }, signal, async (found) => {
    const id = found.inspect.Id;
    switch (desired) {
      case 'RUNNING':
        if (found.power === 'PAUSED') await ctx.client.unpauseContainer(id, signal);
        else await startOf(ctx, found, signal);
        return;
      case 'PAUSED':
        if (found.power !== 'RUNNING') await startOf(ctx, found, signal);
        await ctx.client.pauseContainer(id, signal);
        return;
      case 'SHUTDOWN':
        await bringDown(ctx, found, ctx.config.stopTimeoutSeconds, signal);
        return;
    }
  });
}
