import { DriverError, abortableSleep, errors, type CallOptions, type CapabilityId, type ConsoleOutput, type Vif, type VolumeAttachment } from '@nova-common/core';
import { Flags, VirErr } from '../client/protocol/remote-types.js';
import { consoleLogPath, interfaceXml, nextTarget, volumeDiskXml } from '../mapping/domain-xml.js';
import { isLibvirtCode } from '../mapping/errors.js';
import { METADATA_KEY, METADATA_NS, type InstanceRecord, type VolumeRecord } from '../mapping/instance-record.js';
import { buildInstanceMetadata } from '../mapping/metadata-xml.js';
import { isActive } from '../mapping/state.js';
import { parseDomainXml, type ParsedDomain } from '../mapping/xml-read.js';
import * as files from '../host-files.js';
import type { DriverContext } from './context.js';
import { withInstance, type Loaded } from './instances.js';
import { checkVolumePath } from '../volumes/paths.js';
import { isQemuDuplicate, removeOrphanDisks } from './orphan-devices.js';
import { interfaceRecord, vifIssues } from './vifs.js';
import { asOperationError, connectedRecord, connectorIssue, disconnectOne, pluggable, pluggedRecord, pluggedVifIssues, plugOne, unplugOne } from './plugs.js';

const CONSOLE_TAIL_BYTES = 64 * 1024;
const DETACH_WAIT_MS = 30_000;
/** A live detach only asks the guest: ask again this often, like Nova. */
const DETACH_ASK_MS = 5_000;
const POLL_MS = 100;

/** libvirt's test driver cannot attach or detach devices and has no console log. */
export function requireHypervisor(ctx: DriverContext, op: string, capability: CapabilityId): void {
  if (!ctx.hasFiles) throw errors.unsupported(capability, op);
}

/** Change the live domain too when it runs, always the persistent definition. */
function deviceFlags(l: Loaded): number {
  return isActive(l.state) ? Flags.AFFECT_LIVE | Flags.AFFECT_CONFIG : Flags.AFFECT_CONFIG;
}

function volumeAttached(l: Loaded, volumeId: string): boolean {
  return l.record.volumes.some((v) => v.id === volumeId) && l.domain.disks.some((d) => d.serial?.toLowerCase() === volumeId);
}

/** withInstance for an operation on one volume: the table's device precondition is whether `volumeId` is attached. */
export function withVolume(
  ctx: DriverContext,
  op: 'attachVolume' | 'detachVolume' | 'extendVolume',
  uuid: string,
  volumeId: string,
  options: CallOptions | undefined,
  action: (l: Loaded) => Promise<void>,
): Promise<void | undefined> {
  return withInstance(ctx, op, op, uuid, options, action, (l) => ({ volumeAttached: volumeAttached(l, volumeId) }));
}

function interfaceAttached(l: Loaded, vifId: string): boolean {
  const n = l.record.interfaces.find((x) => x.id === vifId);
  return n !== undefined && l.domain.interfaces.some((i) => i.mac === n.mac);
}

/** Write the record back into the domain's metadata (live and persistent, as the devices). */
export async function saveRecord(ctx: DriverContext, l: Loaded, r: InstanceRecord): Promise<void> {
  await ctx.client.setMetadata(l.ref, buildInstanceMetadata(r, '', true), METADATA_KEY, METADATA_NS, deviceFlags(l));
}

/**
 * Detach and wait until the device is gone from both the live and the persistent XML,
 * asking again every few seconds: a live detach only asks the guest, which may take a while
 * or ignore it (libvirt reports success either way).
 */
async function detachAndWait(ctx: DriverContext, l: Loaded, xml: string, present: (d: ParsedDomain) => boolean, signal: AbortSignal | undefined): Promise<void> {
  const flags = deviceFlags(l);
  const started = Date.now();
  let lastAsk = 0;
  for (;;) {
    const [live, inactive] = await Promise.all([ctx.client.getXmlDesc(l.ref, 0), ctx.client.getXmlDesc(l.ref, Flags.DOMAIN_XML_INACTIVE)]);
    const inLive = present(parseDomainXml(live));
    const inConfig = present(parseDomainXml(inactive));
    if (!inLive && !inConfig) return;
    if (Date.now() - started > DETACH_WAIT_MS) {
      throw new DriverError('TIMEOUT', { op: 'detach', target: l.record.uuid, detail: 'the guest did not release the device' });
    }
    if (Date.now() - lastAsk > DETACH_ASK_MS) {
      lastAsk = Date.now();
      const f = inLive ? flags : Flags.AFFECT_CONFIG;
      try {
        await ctx.client.detachDevice(l.ref, xml, inConfig ? f : f & ~Flags.AFFECT_CONFIG);
      } catch (err) {
        // Already being removed, or gone from one of the two definitions.
        if (!isLibvirtCode(err, VirErr.OPERATION_FAILED, VirErr.DEVICE_MISSING, VirErr.OPERATION_INVALID, VirErr.INVALID_ARG)) throw err;
      }
    }
    await abortableSleep(POLL_MS, signal);
  }
}

export async function attachVolume(ctx: DriverContext, uuid: string, a: VolumeAttachment, options?: CallOptions): Promise<void> {
  const op = 'attachVolume';
  requireHypervisor(ctx, op, 'operation.attach-volume');
  const ci = a.connectionInfo;
  const connector = ctx.plugs.volume;
  let path = '';
  if (connector !== undefined) {
    // The connector judges the volume (its transports, its roots) and answers the path once the instance allows the attach.
    const issue = connectorIssue(connector, ci, ['attachment', 'connectionInfo']);
    if (issue) throw errors.invalidInput([issue], op);
  } else {
    if (ci.driverVolumeType !== 'file' && ci.driverVolumeType !== 'block') {
      throw errors.invalidInput([{ path: ['attachment', 'connectionInfo', 'driverVolumeType'], message: `transport ${ci.driverVolumeType} is not supported by this driver` }], op);
    }
    // The path resolved against the allowlisted roots; the domain is given the resolved path.
    const checked =
      ci.driverVolumeType === 'file'
        ? await checkVolumePath(ctx.config, 'file', ci.path, ['attachment', 'connectionInfo', 'path'])
        : await checkVolumePath(ctx.config, 'block', ci.devicePath, ['attachment', 'connectionInfo', 'devicePath']);
    if (!checked.ok) throw errors.invalidInput([checked.issue], op);
    path = checked.path;
  }
  // A volume id inside an attachment reaches the driver as written: one letter case here.
  const volumeId = a.volumeId.toLowerCase();
  await withVolume(ctx, op, uuid, volumeId, options, async (l) => {
    const r = l.record;
    const bus = a.diskBus ?? r.image.diskBus;
    const used = new Set([...l.domain.disks.map((d) => d.target), ...r.volumes.map((v) => v.target), ...r.localDisks.map((d) => d.target)]);
    let v: VolumeRecord = {
      id: volumeId,
      target: nextTarget(bus, used),
      bus,
      source: ci.driverVolumeType === 'block' ? 'block' : 'file',
      path,
      ...(a.sizeGb !== undefined ? { sizeGb: a.sizeGb } : {}),
      ...(a.deviceName !== undefined ? { deviceName: a.deviceName } : {}),
      deleteOnTermination: a.deleteOnTermination,
    };
    if (connector !== undefined) {
      const connected = await connector.connect(volumeId, ci, options?.signal ? { signal: options.signal } : {}).catch((err: unknown) => {
        throw asOperationError(err, op, 'connectionInfo', ['attachment', 'connectionInfo']);
      });
      v = connectedRecord(v, ci, connected);
    }
    try {
      const xml = volumeDiskXml(v, ctx.caches);
      try {
        await ctx.client.attachDevice(l.ref, xml, deviceFlags(l));
      } catch (err) {
        // What an attach cut short by libvirtd's death left in QEMU takes the names libvirtd picks now.
        if (!isQemuDuplicate(err) || (await removeOrphanDisks(ctx, l.ref)).length === 0) throw err;
        await ctx.client.attachDevice(l.ref, xml, deviceFlags(l));
      }
    } catch (err) {
      // The guest did not get the volume: nothing stays connected for it.
      await disconnectOne(ctx, uuid, v).catch(() => undefined);
      throw err;
    }
    r.volumes.push(v);
    await saveRecord(ctx, l, r);
  });
}

export async function detachVolume(ctx: DriverContext, uuid: string, volumeId: string, options?: CallOptions): Promise<void> {
  const op = 'detachVolume';
  requireHypervisor(ctx, op, 'operation.detach-volume');
  await withVolume(ctx, op, uuid, volumeId, options, async (l) => {
    const r = l.record;
    const v = r.volumes.find((x) => x.id === volumeId);
    if (v) await detachAndWait(ctx, l, volumeDiskXml(v), (d) => d.disks.some((x) => x.serial?.toLowerCase() === volumeId), options?.signal);
    r.volumes = r.volumes.filter((x) => x.id !== volumeId);
    await saveRecord(ctx, l, r);
    // The guest let go of it: the connection the connector made goes too.
    if (v) await disconnectOne(ctx, uuid, v);
  });
}

export async function attachInterface(ctx: DriverContext, uuid: string, vif: Vif, options?: CallOptions): Promise<void> {
  const op = 'attachInterface';
  requireHypervisor(ctx, op, 'operation.attach-interface');
  const plugin = ctx.plugs.vif;
  const issues = plugin !== undefined ? pluggedVifIssues(plugin, vif, ['vif']) : vifIssues(vif, ['vif'], ctx.hasFiles);
  if (issues.length > 0) throw errors.invalidInput(issues, op);
  // A VIF id inside a vif reaches the driver as written: one letter case here.
  const vifId = vif.id.toLowerCase();
  await withInstance(
    ctx,
    op,
    op,
    uuid,
    options,
    async (l) => {
      const r = l.record;
      let n = interfaceRecord(vif, r.image.vifModel);
      if (plugin !== undefined && pluggable(vif)) {
        const device = await plugOne(ctx, r, vif, options?.signal).catch((err: unknown) => {
          throw asOperationError(err, op, 'vif', ['vif']);
        });
        n = pluggedRecord(n, vif, device);
      }
      try {
        await ctx.client.attachDevice(l.ref, interfaceXml(n), deviceFlags(l));
      } catch (err) {
        // The guest did not get the NIC: its tap goes again.
        await unplugOne(ctx, r, n).catch(() => undefined);
        throw err;
      }
      r.interfaces.push(n);
      await saveRecord(ctx, l, r);
    },
    (l) => ({ interfaceAttached: interfaceAttached(l, vifId) }),
  );
}

export async function detachInterface(ctx: DriverContext, uuid: string, vifId: string, options?: CallOptions): Promise<void> {
  const op = 'detachInterface';
  requireHypervisor(ctx, op, 'operation.detach-interface');
  await withInstance(
    ctx,
    op,
    op,
    uuid,
    options,
    async (l) => {
      const r = l.record;
      const n = r.interfaces.find((x) => x.id === vifId);
      if (n) await detachAndWait(ctx, l, interfaceXml(n), (d) => d.interfaces.some((x) => x.mac === n.mac), options?.signal);
      r.interfaces = r.interfaces.filter((x) => x.id !== vifId);
      await saveRecord(ctx, l, r);
      // The guest let go of the NIC: the tap the plugin made for it goes too.
      if (n) await unplugOne(ctx, r, n);
    },
    (l) => ({ interfaceAttached: interfaceAttached(l, vifId) }),
  );
}

/** The tail of the serial console's log (the last 64 KiB), which virtlogd writes and caps. */
export async function getConsoleOutput(ctx: DriverContext, uuid: string, options?: CallOptions): Promise<ConsoleOutput> {
  const op = 'getConsoleOutput';
  requireHypervisor(ctx, op, 'console.serial.log');
  const out = await withInstance(ctx, op, op, uuid, options, async () => {
    // virtlogd rotates the log at its size cap: the tail may begin in the newest rotated file.
    const { text, truncated } = await files.readTailRotated(consoleLogPath({ instanceDir: ctx.instanceDir(uuid) }), CONSOLE_TAIL_BYTES);
    return { output: text, truncated };
  });
  // getConsoleOutput is valid in every existing state; the table's only refusal (ABSENT) throws.
  return out!;
}
