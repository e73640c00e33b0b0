import { realpath, stat } from 'node:fs/promises';
import { DriverError, errors, type VolumeAttachment } from '@nova-common/core';
import {
  loadDriverPlugs,
  plugAll,
  unplugAll,
  type GuardedVifPlugin,
  type PlugInstance,
  type PluggedVif,
} from '@nova-common/core/plugs';
import { isNotRunning } from '../mapping/errors.js';
import type { StoredVolume } from '../mapping/labels.js';
import { volumeTarget } from '../mapping/mounts.js';
import type { EngineContext } from './context.js';
import { ownedContainers } from './instances.js';
import { moveIntoNamespace } from './netns.js';
import type { VifEntry } from './vif-records.js';

/**
 * The plugs of the driver (CNI's model): a container's network namespace lives and dies with its run,
 * so the VIF plugin's devices are made for each run. After every start the driver plugs the instance's
 * recorded VIFs and moves each veth peer into the container (driver/netns.ts); before every stop it asks
 * for it unplugs them (the pair would vanish with the namespace, but only an unplug lets the plugin
 * remove a bridge it made). The volume connector turns connection infos into the files and devices the
 * container is given.
 */

/** Why a move between engines is refused while plugs are configured (operation.migrate is then declared missing). */
export const PLUGGED_MIGRATION =
  'with a VIF plugin or a volume connector configured, instances do not move between engines (their VIF records and connected volumes are not handed over); resize in place works';

export const plugsConfigured = (ctx: EngineContext): boolean => ctx.vifPlugin !== undefined || ctx.volumeConnector !== undefined;

/** Load the configured plugs (objects given to the driver win over specs), behind core's plug guard. */
export async function loadPlugs(ctx: EngineContext): Promise<void> {
  const plugs = await loadDriverPlugs(ctx.config, ctx.hooks, ctx.hooks.plugResolveFrom ?? process.cwd());
  ctx.vifPlugin = plugs.vif;
  ctx.volumeConnector = plugs.volume;
}

/** The instance a plug is for. */
export function plugInstance(uuid: string, name?: string): PlugInstance {
  return name ? { uuid, name: name.slice(0, 255) } : { uuid };
}

/**
 * Plug `entries` and move each peer into the running container `containerId` under its recorded name.
 * Atomic: when any step fails, every VIF this call plugged is unplugged again and the error is thrown.
 */
export async function plugInto(ctx: EngineContext, plugin: GuardedVifPlugin, containerId: string, who: PlugInstance, entries: readonly VifEntry[], signal?: AbortSignal): Promise<void> {
  const vifs = entries.map((e) => e.vif);
  const plugged = await plugAll(plugin, vifs, who, { signal });
  try {
    const pid = (await ctx.client.inspectContainer(containerId, signal)).State.Pid;
    for (const [i, p] of plugged.entries()) await moveIntoNamespace('plug', pid, peerOf(plugin, p), entries[i]!.ifname, p.mtu);
  } catch (err) {
    await unplugAll(plugin, [...vifs].reverse(), who);
    throw err;
  }
}

function peerOf(plugin: GuardedVifPlugin, p: PluggedVif): string {
  if (p.kind === 'veth' && p.peer !== undefined) return p.peer;
  throw new DriverError('INTERNAL', {
    op: 'plug',
    target: p.vifId,
    detail: `${plugin.name} answered a ${p.kind} device without a peer; a container takes the peer of a veth pair`,
  });
}

/**
 * Start an instance's container and, with a VIF plugin, wire its recorded VIFs into the new run. When the
 * wiring fails the run is ended again (recorded as the driver's stop, so it reads SHUTDOWN) and the error
 * is thrown: a start never leaves a guest running without its ports, nor a device on the host.
 */
export async function startInstance(ctx: EngineContext, containerId: string, who: PlugInstance, signal?: AbortSignal): Promise<void> {
  await ctx.client.startContainer(containerId, signal);
  const plugin = ctx.vifPlugin;
  if (plugin === undefined) return;
  const entries = await ctx.vifRecords.get(who.uuid);
  if (entries.length === 0) return;
  try {
    // What an earlier run left (a crash, an engine restart): its pairs died with its namespace; unplugging lets the plugin tidy up.
    await unplugAll(plugin, entries.map((e) => e.vif), who);
    await plugInto(ctx, plugin, containerId, who, entries, signal);
  } catch (err) {
    await endRun(ctx, containerId).catch(() => undefined);
    throw err;
  }
}

/** Kill the run just started, recorded as the driver's own stop. */
async function endRun(ctx: EngineContext, containerId: string): Promise<void> {
  const inspect = await ctx.client.inspectContainer(containerId);
  await ctx.stops.note(inspect);
  ctx.activity.expectExit(containerId);
  try {
    await ctx.client.killContainer(containerId, 'KILL');
  } catch (err) {
    if (!isNotRunning(err)) throw err;
  }
  await ctx.client.waitNotRunning(containerId);
}

/** Unplug an instance's recorded VIFs (before a stop, at destroy): every one is tried; the errors are answered, never thrown. */
export async function unwire(ctx: EngineContext, who: PlugInstance): Promise<unknown[]> {
  const plugin = ctx.vifPlugin;
  if (plugin === undefined) return [];
  const entries = await ctx.vifRecords.get(who.uuid).catch(() => [] as VifEntry[]);
  return unplugAll(plugin, entries.map((e) => e.vif).reverse(), who);
}

/**
 * A volume through the connector, when one is configured for its transport: connected, and recorded with
 * the path the connector answered and the connection info its disconnect needs. Undefined otherwise (the
 * connection info then names a path under volumeRoot). The caller disconnects it when its operation fails.
 */
export async function connectVolume(ctx: EngineContext, v: VolumeAttachment, op: string, signal?: AbortSignal): Promise<StoredVolume | undefined> {
  const connector = ctx.volumeConnector;
  if (connector === undefined || !connector.transports.includes(v.connectionInfo.driverVolumeType)) return undefined;
  const connected = await connector.connect(v.volumeId, v.connectionInfo, { signal });
  try {
    const source = await realpath(connected.path);
    const st = await stat(source);
    if (connected.kind === 'file' ? !st.isFile() : !st.isBlockDevice()) throw new Error(`${source} is not a ${connected.kind === 'file' ? 'regular file' : 'block device'}`);
    return {
      volumeId: v.volumeId,
      ...(v.deviceName !== undefined ? { deviceName: v.deviceName } : {}),
      ...(v.sizeGb !== undefined ? { sizeGb: v.sizeGb } : {}),
      target: volumeTarget(connected.kind, v.volumeId),
      source,
      kind: connected.kind,
      connectionInfo: v.connectionInfo,
    };
  } catch (err) {
    await connector.disconnect(v.volumeId, v.connectionInfo).catch(() => undefined);
    throw new DriverError('INTERNAL', { op, target: v.volumeId, detail: `${connector.name} answered ${connected.path}: ${(err as Error).message}` });
  }
}

/** Disconnect the volumes that were connected through the connector (cleanup: every one is tried; the errors are answered). */
export async function disconnectVolumes(ctx: EngineContext, volumes: readonly StoredVolume[]): Promise<unknown[]> {
  const connector = ctx.volumeConnector;
  const out: unknown[] = [];
  if (connector === undefined) return out;
  for (const v of volumes) {
    if (v.connectionInfo === undefined) continue;
    try {
      await connector.disconnect(v.volumeId, v.connectionInfo);
    } catch (err) {
      out.push(err);
    }
  }
  return out;
}

/**
 * initHost: the records of instances that no longer have any container (a spawn the driver died in, after
 * the startup sweep removed its container) are unplugged and dropped. Only records older than the sweep
 * age, so a spawn running beside initHost in another process keeps its own.
 */
export async function pruneVifRecords(ctx: EngineContext, signal?: AbortSignal): Promise<void> {
  if (ctx.vifPlugin === undefined) return;
  const stale = await ctx.vifRecords.uuids(ctx.config.spawnSweepAgeSeconds);
  if (stale.length === 0) return;
  const live = new Set((await ownedContainers(ctx, signal)).map((c) => c.Labels?.[ctx.keys.uuid]));
  for (const uuid of stale) {
    if (live.has(uuid)) continue;
    await unwire(ctx, plugInstance(uuid));
    await ctx.vifRecords.forget(uuid);
  }
}
