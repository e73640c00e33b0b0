import { DriverError, enforceCell, errors, type InstanceSpec, type RebuildSpec, type Vif } from '@nova-common/core';
import { EngineHttpError } from '../client/errors.js';
import type { ContainerInspect } from '../client/types.js';
import { assertHonouredExtraSpecs, pidsLimitOf } from '../mapping/extra-specs.js';
import { isConflict, isNotFound } from '../mapping/errors.js';
import { imageAllowed, imageReferenceFor, isValidImageReference } from '../mapping/images.js';
import { containerName, isOwned, phaseOfName, readInstanceLabels, type InstanceLabels, type StoredVolume } from '../mapping/labels.js';
import { leftoversOf, removeOwnedContainer } from './cleanup.js';
import type { EngineContext } from './context.js';
import { storedVolume } from './devices.js';
import { instanceFor, locate } from './instances.js';
import { assertSpawnFits } from './inventory.js';
import { collectNetworks, connectVif } from './networks.js';
import { disconnectVolumes, plugInstance, startInstance, unwire } from './plugs.js';
import { bodyFor, removeStateImage, replace } from './replace.js';

/** The local image an ImageMeta id names: a valid reference, allowed, present in the engine (never pulled). */
async function resolveImage(ctx: EngineContext, id: string, field: (string | number)[], op: string, signal?: AbortSignal): Promise<string> {
  const ref = imageReferenceFor(ctx.config.imageMap, id);
  if (!isValidImageReference(ref)) {
    throw errors.invalidInput([{ path: field, message: `${JSON.stringify(ref)} is not a local image reference (name[:tag] or image id)` }], op);
  }
  if (!imageAllowed(ctx.config.images, ref)) {
    throw errors.invalidInput([{ path: field, message: 'image is not in the allowlist of this driver' }], op);
  }
  try {
    await ctx.client.inspectImage(ref, signal);
  } catch (err) {
    if (isNotFound(err)) throw errors.invalidInput([{ path: field, message: 'no such image on this engine (images are never pulled)' }], op);
    throw err;
  }
  return ref;
}

/**
 * Create an instance: every check first (the table, the node, the flavor's extra specs, the image, placement, the
 * volumes), then the container under a temporary name, wired and started, renamed to the real name as the
 * last step: until then it is no instance (not listed, not found), and whatever fails removes it.
 */
export async function spawn(ctx: EngineContext, spec: InstanceSpec, signal?: AbortSignal): Promise<void> {
  await ctx.removals.flush(signal);
  const existing = await locate(ctx, spec.uuid, signal);
  enforceCell(existing?.power ?? 'ABSENT', 'spawn', { op: 'spawn', uuid: spec.uuid, ctx: { powerOn: spec.powerOn } });
  if (spec.node !== undefined && spec.node !== ctx.host.node) throw new DriverError('NODE_NOT_FOUND', { op: 'spawn', target: spec.node });
  assertHonouredExtraSpecs(spec.flavor, 'spawn');
  const pidsLimit = pidsLimitOf(spec.flavor, ctx.config.pidsLimit);
  const imageRef = await resolveImage(ctx, spec.image.id, ['spec', 'image', 'id'], 'spawn', signal);
  await assertSpawnFits(ctx, spec.flavor, signal);
  const volumes: StoredVolume[] = [];
  try {
    for (const [i, v] of spec.blockDeviceInfo.volumes.entries()) {
      volumes.push(await storedVolume(ctx, v, ['spec', 'blockDeviceInfo', 'volumes', i, 'connectionInfo'], 'spawn', signal));
    }
    await spawnWith(ctx, spec, { imageRef, pidsLimit, volumes }, signal);
  } catch (err) {
    // What the volume connector connected for this spawn is disconnected again: a failed spawn leaves nothing.
    await disconnectVolumes(ctx, volumes);
    throw err;
  }
}

async function spawnWith(
  ctx: EngineContext,
  spec: InstanceSpec,
  { imageRef, pidsLimit, volumes }: { imageRef: string; pidsLimit: number; volumes: StoredVolume[] },
  signal?: AbortSignal,
): Promise<void> {
  const labels: InstanceLabels = {
    uuid: spec.uuid,
    name: spec.name,
    metadata: spec.metadata,
    flavor: spec.flavor,
    node: ctx.host.node,
    image: spec.image,
    volumes,
  };
  // An owned container under this uuid's spawning name is what an earlier spawn left (its create was
  // cancelled or timed out after the engine had made it): it is no instance, and it would take the name.
  for (const c of await leftoversOf(ctx, spec.uuid, signal)) if (phaseOfName(ctx.naming, c.Name)?.phase === 'spawning') await ctx.removals.discard(c.Id);
  ctx.inFlight.add(spec.uuid);
  try {
    await createInstance(ctx, labels, { imageRef, pidsLimit, vifs: spec.networkInfo, powerOn: spec.powerOn }, signal);
  } finally {
    ctx.inFlight.delete(spec.uuid);
  }
}

async function createInstance(
  ctx: EngineContext,
  labels: InstanceLabels,
  how: { imageRef: string; pidsLimit: number; vifs: readonly Vif[]; powerOn: boolean },
  signal?: AbortSignal,
): Promise<void> {
  const { uuid } = labels;
  let containerId: string | undefined;
  const touchedNetworks: string[] = [];
  // With a VIF plugin the VIFs are recorded (each run plugs them: driver/plugs.ts) and the container has network mode none.
  const plugged = ctx.vifPlugin !== undefined;
  try {
    if (plugged) await ctx.vifRecords.put(uuid, how.vifs.map((vif, n) => ({ vif, ifname: `eth${n}` })));
    // Not abandoned half way: a create the call gave up on the engine would still make, under a name the
    // driver then could not tell apart from another's. Short; the signal is looked at once it returns.
    containerId = await ctx.client.createContainer(containerName(ctx.naming, uuid, 'spawning'), bodyFor(ctx, how.imageRef, labels, how.pidsLimit, plugged));
    if (signal?.aborted) throw signal.reason;
    await ctx.hooks.afterCreate?.(containerId, uuid);
    const wired: Pick<ContainerInspect, 'Id' | 'NetworkSettings'> = { Id: containerId, NetworkSettings: { Networks: {} } };
    for (const vif of plugged ? [] : how.vifs) {
      const net = await connectVif(ctx, wired, vif, signal, touchedNetworks);
      wired.NetworkSettings.Networks![net] = {};
    }
    await ctx.hooks.beforeStart?.(containerId, uuid);
    if (how.powerOn) await startInstance(ctx, containerId, plugInstance(uuid, labels.name), signal);
    await ctx.client.renameContainer(containerId, containerName(ctx.naming, uuid), signal);
  } catch (err) {
    if (plugged) {
      // startInstance unplugged what it plugged; this covers a failure after it (the rename).
      await unwire(ctx, plugInstance(uuid, labels.name));
      await ctx.vifRecords.forget(uuid).catch(() => undefined);
    }
    // A create whose answer was lost (the engine went away, the request timed out) may still have been made.
    if (containerId === undefined && !(err instanceof EngineHttpError)) containerId = await madeUnseen(ctx, uuid);
    // What this spawn made goes: its container, and the networks it made or joined that nothing else uses.
    await ctx.removals.discard(containerId, touchedNetworks);
    if (isConflict(err) && containerId === undefined) throw errors.exists(uuid, 'spawn');
    throw err;
  }
}

/** The id of the owned container under `uuid`'s spawning name, when the engine made one the call never heard of. */
async function madeUnseen(ctx: EngineContext, uuid: string): Promise<string | undefined> {
  try {
    const c = await ctx.client.inspectContainer(containerName(ctx.naming, uuid, 'spawning'));
    return isOwned(ctx.naming, c.Config.Labels, 'instance') && c.Config.Labels?.[ctx.keys.uuid] === uuid ? c.Id : undefined;
  } catch {
    // Not made, or the engine is away: the startup sweep and the next spawn or destroy of the uuid find it.
    return undefined;
  }
}

/** Remove an instance, what a dead spawn or replacement of it left, its state image and the networks only it used. Idempotent. */
export async function destroy(ctx: EngineContext, uuid: string, signal?: AbortSignal): Promise<void> {
  await ctx.removals.flush(signal);
  const found = await locate(ctx, uuid, signal);
  enforceCell(found?.power ?? 'ABSENT', 'destroy', { op: 'destroy', uuid });
  const leftovers = await leftoversOf(ctx, uuid, signal);
  if (ctx.vifPlugin !== undefined && (await ctx.vifRecords.has(uuid))) {
    // The VIF plugin's devices go first (so the plugin can remove a bridge it made), then the record.
    await unwire(ctx, plugInstance(uuid, found?.labels.name));
  }
  if (!found && leftovers.length === 0) {
    if (ctx.vifPlugin !== undefined) await ctx.vifRecords.forget(uuid);
    return;
  }
  // From here the destroy runs to its end whatever the signal says: its steps are short, and letting go in
  // between would leave a container the engine is still removing (NOSTATE) or networks nothing collects.
  const networks = new Set<string>();
  for (const c of [...(found ? [found.inspect] : []), ...leftovers]) {
    for (const n of Object.keys(c.NetworkSettings.Networks ?? {})) networks.add(n);
    await removeOwnedContainer(ctx, c);
  }
  await removeStateImage(ctx, uuid);
  await collectNetworks(ctx, [...networks]);
  if (ctx.vifPlugin !== undefined) await ctx.vifRecords.forget(uuid);
  // Volumes the connector connected for this instance (or a replacement it left) are disconnected once no container has them.
  const connected = [found?.labels, ...leftovers.map((c) => readInstanceLabels(ctx.naming, c.Config.Labels))].flatMap((l) => l?.volumes ?? []);
  await disconnectVolumes(ctx, connected);
}

/** Recreate the container from the new image (and new metadata when given): same volumes and VIF endpoints, started. */
export async function rebuild(ctx: EngineContext, uuid: string, spec: RebuildSpec, signal?: AbortSignal): Promise<void> {
  const { found, cell } = await instanceFor(ctx, { op: 'rebuild', column: 'rebuild', uuid }, signal);
  const imageRef = await resolveImage(ctx, spec.image.id, ['spec', 'image', 'id'], 'rebuild', signal);
  const labels: InstanceLabels = { ...found.labels, image: spec.image, metadata: spec.metadata ?? found.labels.metadata };
  await replace(ctx, uuid, found, labels, { imageRef, keepLayer: false, target: cell.to }, signal);
  await removeStateImage(ctx, uuid, signal);
}
