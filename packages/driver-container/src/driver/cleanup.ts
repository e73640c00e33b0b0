import { holderIsGone } from '@nova-common/core';
import type { ContainerInspect } from '../client/types.js';
import { isNotFound, isUnavailable } from '../mapping/errors.js';
import { containerName, isOwned, phaseOfName } from '../mapping/labels.js';
import type { EngineContext } from './context.js';
import { ownedContainers } from './instances.js';
import { collectNetworks } from './networks.js';

const RETRY_EVERY_MS = 1000;

/**
 * What a failed spawn or replacement made and could not remove (the engine was away): its container,
 * then the networks it made or joined, removed when no container uses them any more. Remembered, and
 * removed again before the driver's next call and every second until the engine is back.
 */
export class PendingRemovals {
  private readonly ids = new Set<string>();
  private readonly networks = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly ctx: EngineContext) {}

  /**
   * Remove a container a failed operation made, then collect `networks` (those the operation made or joined);
   * what the engine is away for is remembered and retried later.
   */
  async discard(containerId: string | undefined, networks: readonly string[] = []): Promise<void> {
    for (const n of networks) this.networks.add(n);
    if (containerId !== undefined) {
      try {
        this.ctx.activity.expectExit(containerId);
        await this.ctx.client.removeContainer(containerId);
      } catch (err) {
        if (!isNotFound(err)) this.ids.add(containerId);
      }
    }
    await this.flush().catch(() => undefined);
    if (!this.idle) this.schedule();
  }

  /**
   * Retry the removals still owed: containers first, then the networks they held. Cheap when there are none.
   * One flush at a time (the timer's and a call's share it): two at once would each see the other's container
   * removal half done, judge the network still in use and forget it, leaving it behind.
   */
  flush(signal?: AbortSignal): Promise<void> {
    if (this.idle) return Promise.resolve();
    this.running ??= this.flushOnce(signal).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async flushOnce(signal?: AbortSignal): Promise<void> {
    for (const id of [...this.ids]) {
      try {
        await this.ctx.client.removeContainer(id, signal);
      } catch (err) {
        if (isUnavailable(err)) return; // still away: try again later
        // Gone already, or refused for good: nothing more to do about it.
      }
      this.ids.delete(id);
    }
    for (const name of [...this.networks]) {
      try {
        await collectNetworks(this.ctx, [name], signal);
      } catch (err) {
        if (isUnavailable(err)) return;
      }
      this.networks.delete(name);
    }
    if (this.idle) this.stop();
  }

  private get idle(): boolean {
    return this.ids.size === 0 && this.networks.size === 0;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      void this.flush().catch(() => undefined);
    }, RETRY_EVERY_MS);
    this.timer.unref?.();
  }
}

/**
 * Startup sweep: owned containers under a temporary name (a spawn or a replacement that the engine or the
 * driver died in), not in flight here, and older than `minAgeSeconds` or made by a process that has
 * certainly died (see currentHolder): a driver killed mid-spawn leaves nothing for long. A replacement whose instance is gone
 * is the instance now: it gets the real name; every other leftover is removed, with the networks only it used.
 */
export async function sweep(ctx: EngineContext, minAgeSeconds: number, signal?: AbortSignal): Promise<void> {
  const now = Date.now() / 1000;
  const all = await ownedContainers(ctx, signal);
  const phases = all.map((c) => ({ c, p: phaseOfName(ctx.naming, c.Names[0] ?? '') }));
  const finals = new Set(phases.filter(({ p }) => p?.phase === 'instance').map(({ p }) => p!.uuid));
  const leftNetworks = new Set<string>();
  for (const { c, p } of phases) {
    if (!p || p.phase === 'instance') continue;
    if (ctx.inFlight.has(p.uuid)) continue;
    // Young leftovers may be another process's spawn still running, unless that process has certainly died.
    if (now - c.Created < minAgeSeconds && !holderIsGone(c.Labels?.[ctx.keys.holder] ?? '')) continue;
    if (p.phase === 'replacing' && !finals.has(p.uuid)) {
      await ctx.client.renameContainer(c.Id, containerName(ctx.naming, p.uuid), signal);
      finals.add(p.uuid);
      continue;
    }
    try {
      await ctx.client.removeContainer(c.Id, signal);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    for (const n of Object.keys(c.NetworkSettings?.Networks ?? {})) leftNetworks.add(n);
  }
  // The networks those spawns made or joined go too, when nothing else uses them.
  await collectNetworks(ctx, [...leftNetworks], signal);
}

/** Owned containers a spawn or replacement of `uuid` left under a temporary name (none while one is in flight). */
export async function leftoversOf(ctx: EngineContext, uuid: string, signal?: AbortSignal): Promise<ContainerInspect[]> {
  if (ctx.inFlight.has(uuid)) return [];
  const out: ContainerInspect[] = [];
  for (const phase of ['spawning', 'replacing'] as const) {
    try {
      const c = await ctx.client.inspectContainer(containerName(ctx.naming, uuid, phase), signal);
      if (isOwned(ctx.naming, c.Config.Labels, 'instance')) out.push(c);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return out;
}

/** Remove a container when it is an owned instance container; never touch anything else. */
export async function removeOwnedContainer(ctx: EngineContext, c: ContainerInspect, signal?: AbortSignal): Promise<void> {
  if (!isOwned(ctx.naming, c.Config.Labels, 'instance')) return;
  try {
    ctx.activity.expectExit(c.Id);
    await ctx.client.removeContainer(c.Id, signal);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  await ctx.stops.forget(c.Id);
}

/** Forget the stop records of containers that no longer exist (removed behind the driver's back). */
export async function pruneStopRecords(ctx: EngineContext, signal?: AbortSignal): Promise<void> {
  const owned = new Set((await ownedContainers(ctx, signal)).map((c) => c.Id));
  await ctx.stops.prune(async (id) => {
    if (owned.has(id)) return true;
    // Not listed: gone, or made after the list was read (a spawn running beside initHost); the engine says which.
    try {
      await ctx.client.inspectContainer(id, signal);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  });
}
