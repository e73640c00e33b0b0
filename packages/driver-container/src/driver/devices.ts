import type { Vif, VolumeAttachment } from '@nova-common/core';
import type { ContainerInspect } from '../client/types.js';
import type { InstanceLabels, StoredVolume } from '../mapping/labels.js';
import { resolveVolume, volumeTarget } from '../mapping/mounts.js';
import { vifOfEndpoint } from '../mapping/networks.js';
import type { EngineContext } from './context.js';
import { instanceFor, interfacesOf, sameId, volumesOf } from './instances.js';
import { aroundNetworkChange, collectNetworks, connectVif, disconnect } from './networks.js';
import { replace } from './replace.js';

/**
 * Volumes and interfaces of an existing instance. Interfaces are hot-plugged (network connect and
 * disconnect); volumes are not (engines cannot add or remove a mount), so the container is
 * recreated from a commit of its writable layer and brought back to its power state.
 */

/**
 * A volume attachment as recorded on the container: its path resolved against the allowlisted root
 * (INVALID_INPUT naming `field` otherwise) and where the container sees it.
 */
export async function storedVolume(ctx: EngineContext, v: VolumeAttachment, field: (string | number)[], op: string): Promise<StoredVolume> {
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
  const stored = await storedVolume(ctx, attachment, ['attachment', 'connectionInfo'], 'attachVolume');
  const labels: InstanceLabels = { ...found.labels, volumes: [...found.labels.volumes, stored] };
  await replace(ctx, uuid, found, labels, { keepLayer: true, target: cell.to }, signal);
}

export async function detachVolume(ctx: EngineContext, uuid: string, volumeId: string, signal?: AbortSignal): Promise<void> {
  const { found, cell } = await instanceFor(ctx, { op: 'detachVolume', column: 'detachVolume', uuid }, signal, (f) => ({
    volumeAttached: volumesOf(f).some((v) => sameId(v.volumeId, volumeId)),
  }));
  const labels: InstanceLabels = { ...found.labels, volumes: found.labels.volumes.filter((v) => !sameId(v.volumeId, volumeId)) };
  await replace(ctx, uuid, found, labels, { keepLayer: true, target: cell.to }, signal);
}

export async function attachInterface(ctx: EngineContext, uuid: string, vif: Vif, signal?: AbortSignal): Promise<void> {
  const { found } = await instanceFor(ctx, { op: 'attachInterface', column: 'attachInterface', uuid }, signal, (f) => ({
    interfaceAttached: interfacesOf(ctx, f.inspect).some((i) => sameId(i.id, vif.id)),
  }));
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
    interfaceAttached: networkOf(f.inspect) !== undefined,
  }));
  const network = networkOf(found.inspect)!;
  await aroundNetworkChange(ctx, found, signal, () => disconnect(ctx, network, found.inspect.Id, signal));
  await collectNetworks(ctx, [network], signal);
}
