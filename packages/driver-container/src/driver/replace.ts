import type { SemanticState } from '@nova-common/core';
import type { ContainerCreateBody } from '../client/types.js';
import { labelChanges } from '../mapping/engine-kind.js';
import { assertSafe, buildContainerConfig } from '../mapping/container-config.js';
import { isConflict, isNotFound } from '../mapping/errors.js';
import { containerName, isOwned, type InstanceLabels } from '../mapping/labels.js';
import { vifOfEndpoint } from '../mapping/networks.js';
import type { EngineContext } from './context.js';
import type { Located } from './instances.js';
import { reconnectEndpoint } from './networks.js';
import { plugInstance, startInstance, unwire } from './plugs.js';
import { stopGracefully } from './power.js';

/**
 * Recreating an instance's container (attach/detach volume, rebuild): engines cannot add or
 * remove a mount on an existing container, nor change its image.
 */

/**
 * The create body of an instance container, checked by the last safety net before it is sent. `plugged`:
 * the VIF plugin wires its ports, so it runs with network mode none instead of on the base network.
 */
export function bodyFor(ctx: EngineContext, imageRef: string, labels: InstanceLabels, pidsLimit: number, plugged = false): ContainerCreateBody {
  const body = buildContainerConfig({
    naming: ctx.naming,
    imageRef,
    labels,
    baseNetwork: plugged ? 'none' : ctx.baseNetwork,
    hostCpus: ctx.host.cpus,
    pidsLimit,
    init: ctx.config.init,
    stopTimeoutSeconds: ctx.config.stopTimeoutSeconds,
  });
  assertSafe(body, new Set(labels.volumes.map((v) => v.source)));
  if (ctx.holder !== '') body.Labels = { ...body.Labels, [ctx.keys.holder]: ctx.holder };
  return body;
}

/** Commit a container to repo:tag carrying `labels` (as `changes` on engines that ignore the body's labels). */
export async function commitWithLabels(
  ctx: EngineContext,
  containerId: string,
  image: { repo: string; tag: string; labels: Record<string, string> },
  signal?: AbortSignal,
): Promise<void> {
  const changes = ctx.differences.commitLabelsAsChanges ? labelChanges(image.labels) : [];
  await ctx.client.commit(containerId, { ...image, changes }, signal);
}

/** The image that carries an instance's writable layer across recreations. */
function stateImageRepo(ctx: EngineContext, uuid: string): string {
  return `${ctx.config.namePrefix}-state/${uuid}`;
}

export async function removeStateImage(ctx: EngineContext, uuid: string, signal?: AbortSignal): Promise<void> {
  const ref = `${stateImageRepo(ctx, uuid)}:latest`;
  try {
    const image = await ctx.client.inspectImage(ref, signal);
    if (!isOwned(ctx.naming, image.Config?.Labels, 'state-image')) return;
    await ctx.client.removeImage(ref, signal);
  } catch (err) {
    // Gone already, or still the parent of a snapshot (the tag is removed, the layers stay with the snapshot).
    if (isNotFound(err) || isConflict(err)) return;
    throw err;
  }
}

/**
 * Recreate an instance's container with new labels (mounts follow the recorded volumes), keeping its
 * writable layer through a commit when asked, its VIF endpoints, and bringing it to `target`.
 * The new container is made under a temporary name first; the old one is removed only once it exists.
 */
export async function replace(
  ctx: EngineContext,
  uuid: string,
  found: Located,
  labels: InstanceLabels,
  how: { imageRef?: string; keepLayer: boolean; target: SemanticState; extraLabels?: Record<string, string> },
  signal?: AbortSignal,
): Promise<void> {
  ctx.inFlight.add(uuid);
  try {
    let imageRef = how.imageRef ?? found.inspect.Config.Image;
    if (how.keepLayer) {
      if (found.power === 'RUNNING' || found.power === 'PAUSED') await stopGracefully(ctx, found, ctx.config.stopTimeoutSeconds, signal);
      const repo = stateImageRepo(ctx, uuid);
      const stateLabels = { [ctx.keys.owner]: ctx.config.ownerId, [ctx.keys.kind]: 'state-image', [ctx.keys.uuid]: uuid };
      await commitWithLabels(ctx, found.inspect.Id, { repo, tag: 'latest', labels: stateLabels }, signal);
      imageRef = `${repo}:latest`;
    }
    const pidsLimit = found.inspect.HostConfig.PidsLimit ?? ctx.config.pidsLimit;
    // An instance whose ports the VIF plugin wires keeps network mode none (its VIFs are in the VIF records, not on endpoints).
    const body = bodyFor(ctx, imageRef, labels, pidsLimit, found.inspect.HostConfig.NetworkMode === 'none');
    // A CRASHED instance stays CRASHED across the recreation: the new container, never started, carries the crash.
    if (how.target === 'CRASHED') body.Labels[ctx.keys.crashed] = 'true';
    // A resize in place marks its migration on the new container (driver/reservations.ts reads it).
    Object.assign(body.Labels, how.extraLabels ?? {});
    const newId = await ctx.client.createContainer(containerName(ctx.naming, uuid, 'replacing'), body, signal);
    try {
      for (const [net, ep] of Object.entries(found.inspect.NetworkSettings.Networks ?? {})) {
        if (net === ctx.baseNetwork || !vifOfEndpoint(ctx.naming, ep)) continue;
        await reconnectEndpoint(ctx, net, newId, ep, signal);
      }
    } catch (err) {
      await ctx.removals.discard(newId);
      throw err;
    }
    ctx.activity.expectExit(found.inspect.Id);
    // A running container removed without a stop (rebuild) would take its pairs along only a moment later: unplugged first.
    await unwire(ctx, plugInstance(uuid, found.labels.name));
    await ctx.client.removeContainer(found.inspect.Id, signal);
    await ctx.stops.forget(found.inspect.Id);
    await ctx.client.renameContainer(newId, containerName(ctx.naming, uuid), signal);
    if (how.target === 'RUNNING' || how.target === 'PAUSED') await startInstance(ctx, newId, plugInstance(uuid, labels.name), signal);
    if (how.target === 'PAUSED') await ctx.client.pauseContainer(newId, signal);
  } finally {
    ctx.inFlight.delete(uuid);
  }
}
