import type { RebootType, TableOperation } from '@nova-common/core';
import type { EngineContext } from './context.js';
import { instanceFor, type Located } from './instances.js';

/**
 * Power operations: each checks the semantics table on the container's state, does nothing in
 * a no-op cell (the engine's own 304 is never relied on), and otherwise makes one or two
 * engine calls.
 */
async function transition(
  ctx: EngineContext,
  where: { op: string; column: TableOperation; uuid: string },
  signal: AbortSignal | undefined,
  act: (found: Located) => Promise<unknown>,
): Promise<void> {
  const { found, cell } = await instanceFor(ctx, where, signal);
  if (cell.noop) return;
  await act(found);
}

/** Engines that refuse to stop or restart a paused container (podman) get it unpaused first. */
export async function unpauseIfEngineNeeds(ctx: EngineContext, found: Located, signal?: AbortSignal): Promise<void> {
  if (found.power === 'PAUSED' && ctx.differences.unpauseBeforeStop) await ctx.client.unpauseContainer(found.inspect.Id, signal);
}

/** Stop: SIGTERM, then SIGKILL after the grace period (`gracefulTimeoutMs` rounded up to seconds, else the configured one). */
export async function powerOff(ctx: EngineContext, uuid: string, gracefulTimeoutMs: number | undefined, signal?: AbortSignal): Promise<void> {
  const grace = gracefulTimeoutMs === undefined ? ctx.config.stopTimeoutSeconds : Math.ceil(gracefulTimeoutMs / 1000);
  await transition(ctx, { op: 'powerOff', column: 'powerOff', uuid }, signal, async (found) => {
    if (found.power === 'CRASHED') {
      // An OOM-killed container keeps reporting it until it runs again: start it and kill it, so it reads as
      // cleanly stopped (SHUTDOWN), as the table wants.
      await ctx.client.startContainer(found.inspect.Id, signal);
      await ctx.client.stopContainer(found.inspect.Id, 0, signal);
      return;
    }
    await unpauseIfEngineNeeds(ctx, found, signal);
    await ctx.client.stopContainer(found.inspect.Id, grace, signal);
  });
}

export async function powerOn(ctx: EngineContext, uuid: string, signal?: AbortSignal): Promise<void> {
  await transition(ctx, { op: 'powerOn', column: 'powerOn', uuid }, signal, (found) => ctx.client.startContainer(found.inspect.Id, signal));
}

/**
 * Restart: it unfreezes a paused container first and starts a stopped one, as the table wants; SOFT gives
 * the init the graceful period, HARD kills at once. (podman refuses a paused one: unpaused first there.)
 */
export async function reboot(ctx: EngineContext, uuid: string, type: RebootType, signal?: AbortSignal): Promise<void> {
  const column = type === 'SOFT' ? 'rebootSoft' : 'rebootHard';
  await transition(ctx, { op: 'reboot', column, uuid }, signal, async (found) => {
    await unpauseIfEngineNeeds(ctx, found, signal);
    await ctx.client.restartContainer(found.inspect.Id, type === 'SOFT' ? ctx.config.stopTimeoutSeconds : 0, signal);
  });
}

/** Freeze the container's processes (cgroup freezer). */
export async function pause(ctx: EngineContext, uuid: string, signal?: AbortSignal): Promise<void> {
  await transition(ctx, { op: 'pause', column: 'pause', uuid }, signal, (found) => ctx.client.pauseContainer(found.inspect.Id, signal));
}

export async function unpause(ctx: EngineContext, uuid: string, signal?: AbortSignal): Promise<void> {
  await transition(ctx, { op: 'unpause', column: 'unpause', uuid }, signal, (found) => ctx.client.unpauseContainer(found.inspect.Id, signal));
}
