import { DriverError, errors, isDriverError, type ConnectionInfo, type InputIssue, type InstanceSpec, type Vif, type VifInput } from '@nova-common/core';
import {
  disconnectAll,
  guardVifPlugin,
  guardVolumeConnector,
  loadDriverPlugs,
  plugAll,
  unplugAll,
  type ConnectedVolume,
  type GuardedVifPlugin,
  type GuardedVolumeConnector,
  type PlugInstance,
  type PluggedVif,
  type VifPlugin,
  type VolumeConnector,
} from '@nova-common/core/plugs';
import { buildDomainXml } from '../mapping/domain-xml.js';
import type { InstanceRecord, InterfaceRecord, VolumeRecord } from '../mapping/instance-record.js';
import type { DriverContext } from './context.js';
import type { Loaded } from './instances.js';
import { readRecord } from './records.js';

/**
 * The host-side plugs this driver calls, when it is given them (configuration or hooks): a VIF
 * plugin makes each bridge VIF's tap (the guest's NIC opens it, libvirt makes none), a volume
 * connector turns each volume's connection info into the file or device the guest's disk
 * uses. Both sit behind core's plug guard. Without them the driver wires VIFs and volumes
 * itself, as before.
 */
export interface DriverPlugs {
  vif?: GuardedVifPlugin;
  volume?: GuardedVolumeConnector;
}

/** The plug objects a caller hands the driver (LibvirtDriverHooks): they take precedence over the configuration's specs. */
export interface PlugObjects {
  vifPlugin?: VifPlugin | GuardedVifPlugin;
  volumeConnector?: VolumeConnector | GuardedVolumeConnector;
  /** Where the configuration's plug modules are resolved from (default: the process's working directory). */
  plugResolveFrom?: string;
}

/** The plugs given as objects, behind the guard. */
export function plugsFromObjects(o: PlugObjects): DriverPlugs {
  return {
    ...(o.vifPlugin !== undefined ? { vif: guardVifPlugin(o.vifPlugin as VifPlugin) } : {}),
    ...(o.volumeConnector !== undefined ? { volume: guardVolumeConnector(o.volumeConnector as VolumeConnector) } : {}),
  };
}

/**
 * At initHost: the plugs the configuration names (core's loadDriverPlugs), where no object
 * replaced them. A plug that cannot be loaded is INVALID_INPUT naming `config.vifPlugin.use` or
 * `config.volumeConnector.use`.
 */
export async function loadConfiguredPlugs(ctx: DriverContext): Promise<void> {
  Object.assign(ctx.plugs, await loadDriverPlugs(ctx.config, ctx.hooks, ctx.hooks.plugResolveFrom ?? process.cwd()));
}

/** With a VIF plugin: the VIF types it wires (a VIF without a bridge stays QEMU user-mode), vnic type normal. */
export function pluggedVifIssues(plugin: GuardedVifPlugin, vif: Vif, field: (string | number)[]): InputIssue[] {
  const issues: InputIssue[] = [];
  if (!plugin.vifTypes.includes(vif.type)) issues.push({ path: [...field, 'type'], message: `VIF type ${vif.type} cannot be wired by ${plugin.name} (${plugin.vifTypes.join(', ')})` });
  if (vif.vnicType !== 'normal') issues.push({ path: [...field, 'vnicType'], message: `vnic type ${vif.vnicType} cannot be wired by this driver (normal only)` });
  return issues;
}

/** With a volume connector: the transports it connects. */
export function connectorIssue(connector: GuardedVolumeConnector, ci: ConnectionInfo, field: (string | number)[]): InputIssue | undefined {
  if (connector.transports.includes(ci.driverVolumeType)) return undefined;
  return { path: [...field, 'driverVolumeType'], message: `transport ${ci.driverVolumeType} is not connected by ${connector.name} (${connector.transports.join(', ')})` };
}

/** Whether the plugin plugs this VIF (it goes on a bridge); a VIF without one is QEMU's user-mode NIC. */
export const pluggable = (vif: Pick<Vif, 'network'>): boolean => vif.network.bridge !== undefined;

/** The record of a plugged VIF: the tap the guest's NIC opens, and what an unplug later needs. */
export function pluggedRecord(n: InterfaceRecord, vif: Vif, p: PluggedVif): InterfaceRecord {
  return { ...n, plugged: p.device, vifType: vif.type, networkId: vif.network.id, ...(p.mtu !== undefined ? { mtu: p.mtu } : {}) };
}

/** The record of a connected volume: the file or device the connector answered, and the connection info to disconnect it with. */
export function connectedRecord(v: VolumeRecord, ci: ConnectionInfo, c: ConnectedVolume): VolumeRecord {
  return { ...v, source: c.kind, path: c.path, connection: ci };
}

/** The VIF an unplug is given, rebuilt from the instance's record (after a restart too). */
function recordedVif(n: InterfaceRecord): VifInput {
  return {
    id: n.id,
    address: n.address ?? n.mac,
    network: { id: n.networkId ?? 'unknown', ...(n.bridge !== undefined ? { bridge: n.bridge } : {}) },
    ...(n.vifType !== undefined ? { type: n.vifType as Vif['type'] } : {}),
    ...(n.devname !== undefined ? { devname: n.devname } : {}),
  };
}

/** A VIF the plugin lists as plugged for an instance, as an unplug takes it (the plugin finds its device by port and instance). */
function listedVif(plugin: GuardedVifPlugin, p: PluggedVif): VifInput {
  return { id: p.vifId, address: p.address, network: { id: 'unknown', ...(p.bridge !== undefined ? { bridge: p.bridge } : {}) }, type: plugin.vifTypes[0] ?? 'bridge' };
}

const plugInstance = (uuid: string, name: string | undefined): PlugInstance => ({ uuid, ...(name !== undefined && name.length > 0 ? { name: name.slice(0, 255) } : {}) });

/**
 * A plug's error, as the driver's operation reports it: the operation's name, and an
 * INVALID_INPUT's fields named where the caller gave them (the plug names them under its own
 * parameter: `vif.devname` becomes `spec.networkInfo.1.devname`).
 */
export function asOperationError(err: unknown, op: string, from: string, to: (string | number)[] | undefined): unknown {
  if (!isDriverError(err)) return err;
  const issues = err.issues?.map((i) => (to !== undefined && i.path[0] === from ? { ...i, path: [...to, ...i.path.slice(1)] } : i));
  const copy = new DriverError(err.code, { ...err.toOptions(), op, ...(issues !== undefined ? { issues } : {}), cause: err });
  return copy;
}

/** Whether a spawn of `s` calls a plug (a VIF on a bridge with a plugin, a volume with a connector). */
export function usesPlugsAtSpawn(ctx: DriverContext, s: InstanceSpec): boolean {
  return (ctx.plugs.vif !== undefined && s.networkInfo.some(pluggable)) || (ctx.plugs.volume !== undefined && s.blockDeviceInfo.volumes.length > 0);
}

/**
 * The volumes other instances of this driver hold connected (their records): a connection has
 * no owner (connect of a connected volume answers the same device), so a volume two instances
 * of this host use at once is disconnected only when the last of them lets go of it, as Nova
 * checks its other attachments before disconnecting. One listing and a metadata read per
 * domain, only when a connected volume is let go.
 */
async function heldElsewhere(ctx: DriverContext, uuid: string): Promise<Set<string>> {
  const held = new Set<string>();
  const domains = await ctx.client.listAllDomains(0);
  await Promise.all(
    domains.map(async (d) => {
      const other = ctx.instanceUuidOf(d);
      if (other === undefined || other === uuid) return;
      const r = await readRecord(ctx, d, other);
      for (const v of r?.volumes ?? []) if (v.connection !== undefined) held.add(v.id);
    }),
  );
  return held;
}

/** Disconnect the volumes instance `uuid` lets go of, but those another instance still holds; answers the errors met. */
async function disconnectUnheld(ctx: DriverContext, uuid: string, volumes: readonly { volumeId: string; connectionInfo: ConnectionInfo }[]): Promise<unknown[]> {
  const connector = ctx.plugs.volume;
  if (connector === undefined || volumes.length === 0) return [];
  let held: Set<string>;
  try {
    held = await heldElsewhere(ctx, uuid);
  } catch (err) {
    // Whether another instance holds them cannot be told: nothing is disconnected (a later destroy or detach retries).
    return [err];
  }
  return disconnectAll(connector, volumes.filter((v) => !held.has(v.volumeId.toLowerCase())));
}

/** What a spawn plugged and connected, and how to undo it. */
export interface SpawnPlugs {
  /** Per VIF id (lower case): the device the plugin answered. */
  vifs: Map<string, PluggedVif>;
  /** Per volume of the spec, in order: what the connector answered (none without a connector). */
  volumes: ConnectedVolume[];
  undo(): Promise<void>;
}

/**
 * Spawn, before the domain is defined: plug the VIFs that go on a bridge, then connect the
 * volumes. All or nothing (core's plugAll undoes its own work; the volumes connected are
 * disconnected, but those another instance holds, and the VIFs unplugged when a volume fails).
 */
export async function plugForSpawn(ctx: DriverContext, s: InstanceSpec, signal: AbortSignal | undefined): Promise<SpawnPlugs> {
  const { vif: plugin, volume: connector } = ctx.plugs;
  const instance = plugInstance(s.uuid, s.name);
  const options = signal ? { signal } : {};
  const toPlug = plugin === undefined ? [] : s.networkInfo.filter(pluggable);
  const fieldOfVif = (id: string | undefined) => {
    const i = s.networkInfo.findIndex((v) => v.id.toLowerCase() === id?.toLowerCase());
    return i < 0 ? undefined : ['spec', 'networkInfo', i];
  };
  let plugged: PluggedVif[] = [];
  if (plugin !== undefined && toPlug.length > 0) {
    try {
      plugged = await plugAll(plugin, toPlug, instance, options);
    } catch (err) {
      throw asOperationError(err, 'spawn', 'vif', fieldOfVif(isDriverError(err) ? err.target : undefined));
    }
  }
  const unplug = async (): Promise<void> => {
    if (plugin !== undefined) await unplugAll(plugin, [...toPlug].reverse(), instance);
  };
  const toConnect = connector === undefined ? [] : s.blockDeviceInfo.volumes.map((v) => ({ volumeId: v.volumeId, connectionInfo: v.connectionInfo }));
  let connected: ConnectedVolume[] = [];
  if (connector !== undefined && toConnect.length > 0) {
    try {
      // One by one rather than core's connectAll, whose undo would disconnect a volume another instance holds.
      for (const v of toConnect) connected.push(await connector.connect(v.volumeId, v.connectionInfo, options));
    } catch (err) {
      await disconnectUnheld(ctx, s.uuid, toConnect.slice(0, connected.length).reverse());
      await unplug();
      const i = s.blockDeviceInfo.volumes.findIndex((v) => isDriverError(err) && v.volumeId.toLowerCase() === err.target);
      throw asOperationError(err, 'spawn', 'connectionInfo', i < 0 ? undefined : ['spec', 'blockDeviceInfo', 'volumes', i, 'connectionInfo']);
    }
  }
  return {
    vifs: new Map(plugged.map((p) => [p.vifId.toLowerCase(), p])),
    volumes: connected,
    undo: async () => {
      await disconnectUnheld(ctx, s.uuid, [...toConnect].reverse());
      await unplug();
    },
  };
}

/** The spawn's record with what was plugged and connected: the domain XML names the taps and the connected paths. */
export function applySpawnPlugs(r: InstanceRecord, s: InstanceSpec, p: SpawnPlugs): void {
  r.interfaces = r.interfaces.map((n, i) => {
    const device = p.vifs.get(n.id);
    return device === undefined ? n : pluggedRecord(n, s.networkInfo[i]!, device);
  });
  if (p.volumes.length > 0) r.volumes = r.volumes.map((v, i) => connectedRecord(v, s.blockDeviceInfo.volumes[i]!.connectionInfo, p.volumes[i]!));
}

/** Plug one VIF for an attach; INVALID_INPUT names the attach's `vif` fields. */
export async function plugOne(ctx: DriverContext, r: InstanceRecord, vif: Vif, signal: AbortSignal | undefined): Promise<PluggedVif> {
  const [device] = await plugAll(ctx.plugs.vif!, [vif], plugInstance(r.uuid, r.name), signal ? { signal } : {});
  return device!;
}

/** Unplug one recorded VIF (no-op when it was not plugged by the plugin). */
export async function unplugOne(ctx: DriverContext, r: InstanceRecord, n: InterfaceRecord): Promise<void> {
  if (n.plugged === undefined || ctx.plugs.vif === undefined) return;
  await ctx.plugs.vif.unplug(recordedVif(n), plugInstance(r.uuid, r.name));
}

/** Disconnect one recorded volume of instance `uuid` (no-op when the connector did not connect it, or another instance holds it). */
export async function disconnectOne(ctx: DriverContext, uuid: string, v: VolumeRecord): Promise<void> {
  if (v.connection === undefined) return;
  const [problem] = await disconnectUnheld(ctx, uuid, [{ volumeId: v.id, connectionInfo: v.connection }]);
  if (problem !== undefined) throw problem;
}

/**
 * After an instance's domain is gone (destroy): unplug its VIFs and disconnect its volumes.
 * The VIFs are the ones its record names and any the plugin still lists for the instance (a
 * spawn cut short, a record lost): the plugin's ownership mark says whose a device is, so a
 * driver restarted since finds them, and another instance's device is never touched. Every one
 * is tried; the first error is thrown (a destroy retried later unplugs what is left).
 */
export async function releaseInstancePlugs(ctx: DriverContext, uuid: string, r: InstanceRecord | undefined): Promise<void> {
  const { vif: plugin, volume: connector } = ctx.plugs;
  const problems: unknown[] = [];
  if (plugin !== undefined) {
    const instance = plugInstance(uuid, r?.name);
    const recorded = (r?.interfaces ?? []).filter((n) => n.plugged !== undefined);
    const known = new Set(recorded.map((n) => n.id));
    const vifs: VifInput[] = recorded.map(recordedVif);
    try {
      for (const p of await plugin.listPlugged()) {
        if (p.instanceUuid.toLowerCase() === uuid && !known.has(p.vifId.toLowerCase())) vifs.push(listedVif(plugin, p));
      }
    } catch (err) {
      problems.push(err);
    }
    // The guard parses each VIF (defaults included) before the plugin sees it.
    problems.push(...(await unplugAll(plugin, vifs as Vif[], instance)));
  }
  if (connector !== undefined && r !== undefined) {
    const volumes = r.volumes.flatMap((v) => (v.connection === undefined ? [] : [{ volumeId: v.id, connectionInfo: v.connection }]));
    problems.push(...(await disconnectUnheld(ctx, uuid, volumes)));
  }
  if (problems.length > 0) throw problems[0];
}

/**
 * Before a shut-off domain starts (powerOn, resume, restoreState): its taps and volumes are
 * there again. A host restart takes the plugin's taps and the connector's loop devices with
 * it; plug and connect are idempotent, so on a host that kept them nothing changes. Should
 * the plugs answer another device or path than the record has (a loop device of another
 * number), the record and the domain's definition take the new one before it starts.
 */
export async function ensurePlugged(ctx: DriverContext, op: string, l: Pick<Loaded, 'ref' | 'record' | 'domain'>, signal: AbortSignal | undefined): Promise<void> {
  try {
    await replug(ctx, l, signal);
  } catch (err) {
    throw asOperationError(err, op, '', undefined);
  }
}

async function replug(ctx: DriverContext, l: Pick<Loaded, 'ref' | 'record' | 'domain'>, signal: AbortSignal | undefined): Promise<void> {
  const { vif: plugin, volume: connector } = ctx.plugs;
  const r = l.record;
  const options = signal ? { signal } : {};
  let changed = false;
  if (plugin !== undefined) {
    for (const [i, n] of r.interfaces.entries()) {
      if (n.plugged === undefined) continue;
      const p = await plugin.plug(recordedVif(n), plugInstance(r.uuid, r.name), options);
      if (p.device !== n.plugged) {
        r.interfaces[i] = { ...n, plugged: p.device };
        changed = true;
      }
    }
  }
  if (connector !== undefined) {
    for (const [i, v] of r.volumes.entries()) {
      if (v.connection === undefined) continue;
      const c = await connector.connect(v.id, v.connection, options);
      if (c.path !== v.path || c.kind !== v.source) {
        r.volumes[i] = connectedRecord(v, v.connection, c);
        changed = true;
      }
    }
  }
  if (changed) await ctx.client.defineXml(buildDomainXml(r, ctx.env(r.uuid, l.domain.name)));
}

/** Whether the instance has a VIF plugged or a volume connected by the plugs (a move to another host cannot carry them yet). */
export function usesPlugs(r: InstanceRecord): boolean {
  return r.interfaces.some((n) => n.plugged !== undefined) || r.volumes.some((v) => v.connection !== undefined);
}
