import type { RebootType, TableOperation } from '@nova-common/core';
import { isNotRunning } from '../mapping/errors.js';
import type { EngineContext } from './context.js';
import { instanceFor, type Located } from './instances.js';
import { plugInstance, startInstance, unwire } from './plugs.js';

/**
 * Power operations: each checks the semantics table on the container's state, does nothing in
 * a no-op cell (the engine's own 304 is never relied on), and otherwise makes a few engine calls.
 * Every stop the driver makes is recorded first (driver/stop-records.ts), so the run it ends reads
 * SHUTDOWN however it ended, never CRASHED.
 */
export async function transition(
  ctx: EngineContext,
  where: { op: string; column: TableOperation; uuid: string },
  signal: AbortSignal | undefined,
  act: (found: Located) => Promise<unknown>,
): Promise<void> {
  const { found, cell } = await instanceFor(ctx, where, signal);
  if (cell.noop) return;
  await act(found);
}

/** Engines that refuse to stop a paused container (podman) get it unpaused first. */
export async function unpauseIfEngineNeeds(ctx: EngineContext, found: Located, signal?: AbortSignal): Promise<void> {
  if (found.power === 'PAUSED' && ctx.differences.unpauseBeforeStop) await ctx.client.unpauseContainer(found.inspect.Id, signal);
}

/**
 * Before the driver ends a run: recorded, so the run reads SHUTDOWN however it ends (driver/stop-records.ts),
 * and expected, so its end is reported as `requested` (driver/activity.ts).
 */
async function askToEnd(ctx: EngineContext, found: Located): Promise<void> {
  // The VIF plugin's devices go first: only an unplug lets the plugin remove a bridge it made (the pairs would die with the namespace).
  await unwire(ctx, plugInstance(found.labels.uuid, found.labels.name));
  await ctx.stops.note(found.inspect);
  ctx.activity.expectExit(found.inspect.Id);
}

/** SIGTERM, then SIGKILL after `graceSeconds`. The call's signal ends the wait (the engine's stop still ends by itself). */
export async function stopGracefully(ctx: EngineContext, found: Located, graceSeconds: number, signal?: AbortSignal): Promise<void> {
  await askToEnd(ctx, found);
  await unpauseIfEngineNeeds(ctx, found, signal);
  await ctx.client.stopContainer(found.inspect.Id, graceSeconds, signal);
}

/**
 * SIGKILL to the init at once, then wait until the run has ended. Both engines kill a paused container
 * this way (podman refuses to stop one), and a container another stop is still waiting on (podman's
 * "stopping", e.g. after a preempted soft reboot).
 */
export async function stopForced(ctx: EngineContext, found: Located, signal?: AbortSignal): Promise<void> {
  await askToEnd(ctx, found);
  try {
    await ctx.client.killContainer(found.inspect.Id, 'KILL', signal);
  } catch (err) {
    if (!isNotRunning(err)) throw err;
  }
  await ctx.client.waitNotRunning(found.inspect.Id, signal);
}

/**
 * Bring an instance to SHUTDOWN (power off, restoreState SHUTDOWN): PAUSED is forced at once, since a
 * frozen guest cannot run its shutdown handler (R-POWER-OFF-PAUSED-FORCED); CRASHED has nothing running,
 * so the driver only records that this run now reads SHUTDOWN and reports the transition itself (the
 * engine sees none), never starting a crashed guest to stop it; anything else stops gracefully.
 */
export async function bringDown(ctx: EngineContext, found: Located, graceSeconds: number, signal?: AbortSignal): Promise<void> {
  switch (found.power) {
    case 'CRASHED':
      await unwire(ctx, plugInstance(found.labels.uuid, found.labels.name));
      await ctx.stops.note(found.inspect);
      ctx.announce(found.labels.uuid, 'STOPPED', 'SHUTDOWN', found.labels.node);
      return;
    case 'PAUSED':
      return stopForced(ctx, found, signal);
    default:
      return stopGracefully(ctx, found, graceSeconds, signal);
  }
}

/** Start an instance's container, its VIFs wired by the VIF plugin when there is one (driver/plugs.ts). */
export function startOf(ctx: EngineContext, found: Located, signal?: AbortSignal): Promise<void> {
  return startInstance(ctx, found.inspect.Id, plugInstance(found.labels.uuid, found.labels.name), signal);
}

/** Stop: the grace period is `gracefulTimeoutMs` rounded up to seconds (the guard always passes it; 60 s by default). */
export async function powerOff(ctx: EngineContext, uuid: string, gracefulTimeoutMs: number | undefined, signal?: AbortSignal): Promise<void> {
  const grace = gracefulTimeoutMs === undefined ? ctx.config.stopTimeoutSeconds : Math.ceil(gracefulTimeoutMs / 1000);
  await transition(ctx, { op: 'powerOff', column: 'powerOff', uuid }, signal, (found) => bringDown(ctx, found, grace, signal));
}

export async function powerOn(ctx: EngineContext, uuid: string, signal?: AbortSignal): Promise<void> {
  await transition(ctx, { op: 'powerOn', column: 'powerOn', uuid }, signal, (found) => startOf(ctx, found, signal));
}

/**
 * Reboot = stop, then start. SOFT (from RUNNING; the table refuses PAUSED and SUSPENDED) gives the init the
 * graceful period; when the call's signal aborts meanwhile (a hard reboot or a destroy preempts it, R-REBOOT-PREEMPT)
 * the driver lets go at once, and the engine's stop ends by itself at the grace period or at the preempting
 * call's kill. HARD kills at once (a paused container too). From SHUTDOWN, CRASHED or NOSTATE both only start.
 */
export async function reboot(ctx: EngineContext, uuid: string, type: RebootType, signal?: AbortSignal): Promise<void> {
  const column = type === 'SOFT' ? 'rebootSoft' : 'rebootHard';
  await transition(ctx, { op: 'reboot', column, uuid }, signal, async (found) => {
    if (found.power === 'RUNNING' || found.power === 'PAUSED') {
      if (type === 'SOFT') await stopGracefully(ctx, found, ctx.config.stopTimeoutSeconds, signal);
      else await stopForced(ctx, found, signal);
    }
    await startOf(ctx, found, signal);
  });
}

/** Freeze the container's processes (cgroup freezer). */
export async function pause(ctx: EngineContext, uuid: string, signal?: AbortSignal): Promise<void> {
  await transition(ctx, { op: 'pause', column: 'pause', uuid }, signal, (found) => ctx.client.pauseContainer(found.inspect.Id, signal));
}

export async function unpause(ctx: EngineContext, uuid: string, signal?: AbortSignal): Promise<void> {
  await transition(ctx, { op: 'unpause', column: 'unpause', uuid }, signal, (found) => ctx.client.unpauseContainer(found.inspect.Id, signal));
}
