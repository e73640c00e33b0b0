import type { Vif, VolumeAttachment } from '@nova-common/core';
import { unplugAll, type GuardedVifPlugin } from '@nova-common/core/plugs';
import type { ContainerInspect } from '../client/types.js';
import type { InstanceLabels, StoredVolume } from '../mapping/labels.js';
import { resolveVolume, volumeTarget } from '../mapping/mounts.js';
import { vifOfEndpoint } from '../mapping/networks.js';
import type { EngineContext } from './context.js';
import { instanceFor, interfacesOf, sameId, volumesOf, type Located } from './instances.js';
import { aroundNetworkChange, collectNetworks, connectVif, disconnect } from './networks.js';
import { namesInNamespace } from './netns.js';
import { connectVolume, disconnectVolumes, plugInstance, plugInto } from './plugs.js';
import { replace } from './replace.js';
import { nextIfname, type VifEntry } from './vif-records.js';

/**
 * Volumes and interfaces of an existing instance. Interfaces are hot-plugged (network connect and
 * disconnect); volumes are not (engines cannot add or remove a mount), so the container is
 * recreated from a commit of its writable layer and brought back to its power state.
 */

/**
 * A volume attachment as recorded on the container: its path resolved against the allowlisted root
 * (INVALID_INPUT naming `field` otherwise) and where the container sees it.
 */
export async function storedVolume(ctx: EngineContext, v: VolumeAttachment, field: (string | number)[], op: string, signal?: AbortSignal): Promise<StoredVolume> {
  // A transport the volume connector takes goes through it (driver/plugs.ts): the caller disconnects it when its operation fails.
  const connected = await connectVolume(ctx, v, op, signal);
  if (connected !== undefined) return connected;
  const resolved = await resolveVolume(
    {
      volumeRoot: ctx.config.volumeRoot,
      deviceAllowlist: ctx.config.deviceAllowlist,
      protectedDirs: ctx.host.engineRootDir ? [ctx.host.engineRootDir] : [],
    },
    v.connectionInfo,
    field,
    op,
  );
  return {
    volumeId: v.volumeId,
    ...(v.deviceName !== undefined ? { deviceName: v.deviceName } : {}),
    ...(v.sizeGb !== undefined ? { sizeGb: v.sizeGb } : {}),
    target: volumeTarget(resolved.kind, v.volumeId),
    source: resolved.source,
    kind: resolved.kind,
  };
}

export async function attachVolume(ctx: EngineContext, uuid: string, attachment: VolumeAttachment, signal?: AbortSignal): Promise<void> {
  const { found, cell } = await instanceFor(ctx, { op: 'attachVolume', column: 'attachVolume', uuid }, signal, (f) => ({
    volumeAttached: volumesOf(f).some((v) => sameId(v.volumeId, attachment.volumeId)),
  }));
  const stored = await storedVolume(ctx, attachment, ['attachment', 'connectionInfo'], 'attachVolume', signal);
  const labels: InstanceLabels = { ...found.labels, volumes: [...found.labels.volumes, stored] };
  try {
    await replace(ctx, uuid, found, labels, { keepLayer: true, target: cell.to }, signal);
  } catch (err) {
    await disconnectVolumes(ctx, [stored]);
    throw err;
  }
}

export async function detachVolume(ctx: EngineContext, uuid: string, volumeId: string, signal?: AbortSignal): Promise<void> {
  const { found, cell } = await instanceFor(ctx, { op: 'detachVolume', column: 'detachVolume', uuid }, signal, (f) => ({
    volumeAttached: volumesOf(f).some((v) => sameId(v.volumeId, volumeId)),
  }));
  const labels: InstanceLabels = { ...found.labels, volumes: found.labels.volumes.filter((v) => !sameId(v.volumeId, volumeId)) };
  await replace(ctx, uuid, found, labels, { keepLayer: true, target: cell.to }, signal);
  // Once no container mounts it, a volume the connector connected is disconnected.
  await disconnectVolumes(ctx, found.labels.volumes.filter((v) => sameId(v.volumeId, volumeId)));
}

export async function attachInterface(ctx: EngineContext, uuid: string, vif: Vif, signal?: AbortSignal): Promise<void> {
  const { found } = await instanceFor(ctx, { op: 'attachInterface', column: 'attachInterface', uuid }, signal, (f) => ({
    interfaceAttached: interfacesOf(ctx, f.inspect, f.wired).some((i) => sameId(i.id, vif.id)),
  }));
  if (ctx.vifPlugin !== undefined) return attachPlugged(ctx, ctx.vifPlugin, found, vif, signal);
  const touched: string[] = [];
  try {
    await aroundNetworkChange(ctx, found, signal, () => connectVif(ctx, found.inspect, vif, signal, touched));
  } catch (err) {
    // A network made for this VIF goes again when nothing uses it.
    await ctx.removals.discard(undefined, touched);
    throw err;
  }
}

export async function detachInterface(ctx: EngineContext, uuid: string, vifId: string, signal?: AbortSignal): Promise<void> {
  const networkOf = (inspect: ContainerInspect): string | undefined =>
    Object.entries(inspect.NetworkSettings.Networks ?? {}).find(([, ep]) => {
      const vif = vifOfEndpoint(ctx.naming, ep);
      return vif !== undefined && sameId(vif.id, vifId);
    })?.[0];
  const { found } = await instanceFor(ctx, { op: 'detachInterface', column: 'detachInterface', uuid }, signal, (f) => ({
    interfaceAttached: networkOf(f.inspect) !== undefined || f.wired.some((e) => sameId(e.vif.id, vifId)),
  }));
  const entry = found.wired.find((e) => sameId(e.vif.id, vifId));
  if (ctx.vifPlugin !== undefined && entry !== undefined) return detachPlugged(ctx, ctx.vifPlugin, found, entry, signal);
  const network = networkOf(found.inspect)!;
  await aroundNetworkChange(ctx, found, signal, () => disconnect(ctx, network, found.inspect.Id, signal));
  await collectNetworks(ctx, [network], signal);
}

/**
 * attachInterface with a VIF plugin: recorded, and on a running (or paused) container plugged and its peer
 * moved in as the next free eth<N> at once; a stopped one gets it at its next start. A failure leaves
 * neither a device nor a record.
 */
async function attachPlugged(ctx: EngineContext, plugin: GuardedVifPlugin, found: Located, vif: Vif, signal?: AbortSignal): Promise<void> {
  const who = plugInstance(found.labels.uuid, found.labels.name);
  const live = found.power === 'RUNNING' || found.power === 'PAUSED';
  // The devices in the container count too (an instance made before the plugin was configured has the engine's).
  const present = live ? await namesInNamespace('attachInterface', found.inspect.State.Pid) : [];
  const entry: VifEntry = { vif, ifname: nextIfname(found.wired, present) };
  if (live) await plugInto(ctx, plugin, found.inspect.Id, who, [entry], signal);
  try {
    await ctx.vifRecords.put(found.labels.uuid, [...found.wired, entry]);
  } catch (err) {
    if (live) await unplugAll(plugin, [vif], who);
    throw err;
  }
}

/** detachInterface with a VIF plugin: unplugged (the pair goes, the peer in the container too), then no longer recorded. */
async function detachPlugged(ctx: EngineContext, plugin: GuardedVifPlugin, found: Located, entry: VifEntry, signal?: AbortSignal): Promise<void> {
  await plugin.unplug(entry.vif, plugInstance(found.labels.uuid, found.labels.name), { signal });
  await ctx.vifRecords.put(found.labels.uuid, found.wired.filter((e) => e !== entry));
}
