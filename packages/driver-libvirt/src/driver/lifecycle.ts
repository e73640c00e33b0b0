import { randomBytes } from 'node:crypto';
import { DriverError, EXISTING_STATES, enforceCell, errors, expectedOutcome, throwIfAborted, type CallOptions, type ImageMeta, type InputIssue, type InstanceSpec, type RebuildSpec } from '@nova-common/core';
import { CallTimeoutError, ConnectionLostError } from '../client/errors.js';
import { VirErr } from '../client/protocol/remote-types.js';
import { BUS_PREFIX, buildDomainXml, consoleLogPath, instanceDomainName, localDiskPath, nextTarget, rescueDiskPath, rootDiskPath, type DomainEnvironment } from '../mapping/domain-xml.js';
import { checkImage, makeRootDisk, makeSwapDisk, rootSizeIssue, type CheckedImage } from '../images/prepare.js';
import { interfaceRecord, vifIssues } from './vifs.js';
import { isLibvirtCode, toContractError } from '../mapping/errors.js';
import { isActive } from '../mapping/state.js';
import { arrivalKinds, requestedKinds } from '../mapping/requested-events.js';
import type { ImageRecord, InstanceRecord, VolumeRecord } from '../mapping/instance-record.js';
import * as files from '../host-files.js';
import { checkVolumePath } from '../volumes/paths.js';
import type { DriverContext } from './context.js';
import { identify, withInstance } from './instances.js';
import { place, settlePlacement } from './placement.js';
import { ensureReady } from './readiness.js';
import { uuidTaken } from './records.js';
import { listPrepared } from './migration-book.js';
import { hardStop, removeDomain } from './teardown.js';
import { claimedByLiveSpawn, claimSpawn, type Unclaim } from './spawn-claim.js';
import { applySpawnPlugs, connectorIssue, plugForSpawn, pluggedVifIssues, releaseInstancePlugs, usesPlugsAtSpawn } from './plugs.js';

/** What the driver keeps of an image: its id and the properties the domain XML uses. */
export function imageRecord(image: ImageMeta): ImageRecord {
  return {
    id: image.id,
    diskFormat: image.diskFormat,
    containerFormat: image.containerFormat,
    diskBus: image.properties.hwDiskBus ?? 'virtio',
    vifModel: image.properties.hwVifModel ?? 'virtio',
    ...(image.properties.hwMachineType !== undefined ? { machine: image.properties.hwMachineType } : {}),
    ...(image.properties.osType !== undefined ? { osType: image.properties.osType } : {}),
  };
}

/**
 * On QEMU/KVM an image id names a file in imageDir, which must be an image the driver can make a
 * disk of (images/prepare.ts: its formats, no backing or external files). Returns the checked
 * image, or the issue naming the field under `field` (e.g. ['spec', 'image']); on the test driver
 * (no files) nothing is read.
 */
export async function imageIssue(
  ctx: DriverContext,
  image: Pick<ImageRecord, 'id' | 'diskFormat' | 'containerFormat'>,
  field: (string | number)[],
): Promise<{ image?: CheckedImage; issue?: InputIssue }> {
  if (!ctx.hasFiles) return {};
  if (!files.isSafeFileName(image.id)) return { issue: { path: [...field, 'id'], message: 'must be a plain file name in the image directory' } };
  const path = imagePath(ctx, image.id);
  if (!(await files.exists(path))) return { issue: { path: [...field, 'id'], message: `no image ${image.id} in ${ctx.config.imageDir}` } };
  const checked = await checkImage(path, image, field);
  return checked.ok ? { image: checked.image } : { issue: checked.issue };
}

/** imageIssue, throwing INVALID_INPUT for `op` when there is an issue. */
export async function requireImage(ctx: DriverContext, image: Pick<ImageRecord, 'id' | 'diskFormat' | 'containerFormat'>, op: string, field: (string | number)[]): Promise<CheckedImage | undefined> {
  const { image: checked, issue } = await imageIssue(ctx, image, field);
  if (issue) throw errors.invalidInput([issue], op);
  return checked;
}

export function imagePath(ctx: DriverContext, id: string): string {
  return files.inside(ctx.config.imageDir, id);
}

/**
 * What the contract's schemas allow but this backend cannot do, refused before any libvirt call:
 * transports other than file and block, volume paths outside the allowlisted roots (see
 * ../volumes/paths.ts), VIFs it cannot wire (vifs.ts), images it cannot make a disk of or whose
 * disk the flavor's root cannot hold. Returns the volumes' resolved host paths, in order, and the
 * checked image (QEMU/KVM).
 */
async function refuseUnsupportedInput(ctx: DriverContext, s: InstanceSpec): Promise<{ paths: string[]; image?: CheckedImage }> {
  const issues: InputIssue[] = [];
  const paths: string[] = [];
  const { vif: plugin, volume: connector } = ctx.plugs;
  for (const [i, v] of s.blockDeviceInfo.volumes.entries()) {
    const ci = v.connectionInfo;
    const field = ['spec', 'blockDeviceInfo', 'volumes', i, 'connectionInfo'];
    if (connector !== undefined) {
      // The connector judges the volume (its transports, its roots) and answers the path at spawn.
      const issue = connectorIssue(connector, ci, field);
      if (issue) issues.push(issue);
      paths.push('');
      continue;
    }
    if (ci.driverVolumeType !== 'file' && ci.driverVolumeType !== 'block') {
      issues.push({ path: [...field, 'driverVolumeType'], message: `transport ${ci.driverVolumeType} is not supported by this driver` });
      continue;
    }
    const checked = ci.driverVolumeType === 'file' ? await checkVolumePath(ctx.config, 'file', ci.path, [...field, 'path']) : await checkVolumePath(ctx.config, 'block', ci.devicePath, [...field, 'devicePath']);
    if (checked.ok) paths.push(checked.path);
    else issues.push(checked.issue);
  }
  s.networkInfo.forEach((vif, i) =>
    issues.push(...(plugin !== undefined ? pluggedVifIssues(plugin, vif, ['spec', 'networkInfo', i]) : vifIssues(vif, ['spec', 'networkInfo', i], ctx.hasFiles))),
  );
  const { image, issue } = await imageIssue(ctx, s.image, ['spec', 'image']);
  if (issue) issues.push(issue);
  const tooSmall = image && rootSizeIssue(image, s.flavor.rootGb, s.image.minDiskGb, ['spec', 'flavor', 'rootGb'], "flavor's");
  if (tooSmall) issues.push(tooSmall);
  if (issues.length > 0) throw errors.invalidInput(issues, 'spawn');
  return { paths, ...(image ? { image } : {}) };
}

/** The record a spawn writes into the domain's metadata: the device plan the XML is generated from. */
function recordFromSpec(ctx: DriverContext, s: InstanceSpec, volumePaths: readonly string[]): InstanceRecord {
  const image = imageRecord(s.image);
  const used = new Set<string>([`${BUS_PREFIX[image.diskBus] ?? 'vd'}a`]);
  const take = (bus: string): string => {
    const target = nextTarget(bus, used);
    used.add(target);
    return target;
  };
  const localDisks: InstanceRecord['localDisks'] = s.blockDeviceInfo.ephemerals.map((e) => {
    const bus = e.diskBus ?? image.diskBus;
    return { kind: 'ephemeral', target: take(bus), bus, sizeMb: e.sizeGb * 1024 };
  });
  if (s.blockDeviceInfo.swap) localDisks.push({ kind: 'swap', target: take(image.diskBus), bus: image.diskBus, sizeMb: s.blockDeviceInfo.swap.sizeMb });
  const volumes: VolumeRecord[] = s.blockDeviceInfo.volumes.map((v, i) => {
    const bus = v.diskBus ?? image.diskBus;
    return {
      // Volume and VIF ids inside a spec reach the driver as written: one letter case here.
      id: v.volumeId.toLowerCase(),
      target: take(bus),
      bus,
      source: v.connectionInfo.driverVolumeType === 'block' ? 'block' : 'file',
      // The resolved path (checked against the volume roots), never the caller's string.
      path: volumePaths[i]!,
      ...(v.sizeGb !== undefined ? { sizeGb: v.sizeGb } : {}),
      ...(v.deviceName !== undefined ? { deviceName: v.deviceName } : {}),
      deleteOnTermination: v.deleteOnTermination,
    };
  });
  return {
    uuid: s.uuid,
    ownerPrefix: ctx.config.namePrefix,
    session: ctx.session,
    since: new Date().toISOString(),
    holder: ctx.holder,
    mode: 'normal',
    name: s.name,
    flavor: s.flavor,
    image,
    metadata: s.metadata,
    localDisks,
    volumes,
    interfaces: s.networkInfo.map((v) => interfaceRecord(v, image.vifModel)),
  };
}

/**
 * The instance's files: the root disk made from the image (copied or converted, grown to the
 * flavor's root), sparse local disks (swap with its signature), an empty console log.
 */
async function makeDisks(ctx: DriverContext, r: InstanceRecord, env: DomainEnvironment, image: CheckedImage): Promise<void> {
  await files.ensureDir(env.instanceDir);
  await makeRootDisk(imagePath(ctx, r.image.id), rootDiskPath(env), image, r.flavor.rootGb);
  await makeLocalDisks(r, env);
  await files.touch(consoleLogPath(env));
}

/** Ephemeral disks are blank sparse files (the guest formats them); swap gets mkswap's signature. */
async function makeLocalDisks(r: InstanceRecord, env: DomainEnvironment): Promise<void> {
  let i = 0;
  for (const d of r.localDisks) {
    const path = localDiskPath(env, d.kind, i++);
    if (d.kind === 'swap') await makeSwapDisk(path, d.sizeMb);
    else await files.sparseFile(path, d.sizeMb);
  }
}

/** libvirt refusing a domain whose uuid is in use (under another name, see instanceDomainName). */
function isUuidTaken(err: unknown): boolean {
  return isLibvirtCode(err, VirErr.DOM_EXIST, VirErr.OPERATION_FAILED) && /already (exists|defined)/i.test((err as Error).message);
}

/**
 * Make the instance on the backend, all or nothing. With powerOn the domain is started as a
 * transient domain (DOMAIN_CREATE_XML) and then made persistent (DOMAIN_DEFINE_XML) with the
 * same XML: it is an instance once persistent, and a transient domain of this driver is a
 * spawn that did not finish (listings skip it, the sweep removes it). Without powerOn one
 * DOMAIN_DEFINE_XML makes it. The first call fails when the uuid is taken: the domain's name
 * is new (see instanceDomainName), so libvirt cannot mistake it for a redefinition. On
 * QEMU/KVM the instance's files come first, in the directory named by its uuid, so whether
 * the uuid is free is asked before (an instance of that uuid keeps its disks untouched).
 * The calls do not take the caller's signal (a call cut short here may still complete in
 * libvirtd, and the rollback must know what exists); the signal is checked between steps.
 */
async function create(ctx: DriverContext, record: InstanceRecord, image: CheckedImage | undefined, powerOn: boolean, signal: AbortSignal | undefined): Promise<void> {
  const uuid = record.uuid;
  const env = ctx.env(uuid, instanceDomainName(ctx.config.namePrefix, uuid, randomBytes(4).toString('hex')));
  const xml = buildDomainXml(record, env);
  if (ctx.hasFiles && (await uuidTaken(ctx, uuid))) throw errors.exists(uuid, 'spawn');
  let started = false;
  try {
    if (ctx.hasFiles) await makeDisks(ctx, record, env, image!);
    throwIfAborted(signal);
    if (powerOn) {
      await ctx.client.createXml(xml);
      started = true;
      if (ctx.hooks.midSpawn) await ctx.hooks.midSpawn(uuid);
      throwIfAborted(signal);
    }
    await ctx.client.defineXml(xml);
  } catch (err) {
    if (started) {
      // If libvirtd is gone this fails too; the domain is still transient and the sweep after reconnect removes it.
      await removeDomain(ctx, ctx.ref(uuid), uuid, true).catch(() => (ctx.resyncNeeded = true));
    } else {
      // A call whose answer never came may still have made the domain: sweep before the next operation.
      if (err instanceof CallTimeoutError || err instanceof ConnectionLostError) ctx.resyncNeeded = true;
      if (ctx.hasFiles) await files.removeTree(env.instanceDir).catch(() => undefined);
    }
    if (isUuidTaken(err)) throw errors.exists(uuid, 'spawn');
    throw err;
  }
}

/** Spawn: placement (the flavor fits), then create (the uuid is free); atomic: on failure nothing is left. */
export async function spawn(ctx: DriverContext, s: InstanceSpec, options?: CallOptions): Promise<void> {
  const op = 'spawn';
  const uuid = s.uuid;
  const { paths: volumePaths, image } = await refuseUnsupportedInput(ctx, s);
  await ensureReady(ctx, op);
  if (s.node !== undefined && s.node !== ctx.nodeName) throw new DriverError('NODE_NOT_FOUND', { op, target: s.node });
  const record = recordFromSpec(ctx, s, volumePaths);
  ctx.inFlight.add(uuid);
  const end = ctx.requested.begin(uuid, requestedKinds('spawn', 'ABSENT'));
  let succeeded = false;
  let unclaim: Unclaim | undefined;
  try {
    // On QEMU/KVM the claim comes first: other processes sharing the instances directory then
    // leave this spawn's files and taps alone, and a second spawn of the uuid is refused.
    if (ctx.hasFiles) unclaim = await claimSpawn(ctx.instanceDir(uuid), uuid);
    await place(ctx, uuid, s.flavor, options?.signal);
    try {
      // With plugs: the taps and volumes first (the domain XML names them), undone when the domain cannot be made.
      // A uuid already in use is refused before: plugging is idempotent, so undoing would unplug that instance's own.
      if (usesPlugsAtSpawn(ctx, s) && (await uuidTaken(ctx, uuid, options?.signal))) throw errors.exists(uuid, op);
      const plugs = await plugForSpawn(ctx, s, options?.signal);
      applySpawnPlugs(record, s, plugs);
      await create(ctx, record, image, s.powerOn, options?.signal).catch(async (err: unknown) => {
        await plugs.undo();
        throw err;
      });
      succeeded = true;
    } finally {
      settlePlacement(ctx, uuid, succeeded);
    }
  } catch (err) {
    throw toContractError(err, op, uuid);
  } finally {
    await unclaim?.(succeeded);
    ctx.inFlight.delete(uuid);
    end(succeeded ? arrivalKinds(s.powerOn ? 'RUNNING' : 'SHUTDOWN') : []);
  }
}

/**
 * Whether destroy succeeds, and changes something, in every state of an existing instance
 * (core's table says so today): then destroy needs no state read, only the live XML.
 */
const DESTROY_IN_EVERY_STATE = EXISTING_STATES.every((state) => {
  const outcome = expectedOutcome(state, 'destroy');
  return outcome.ok && !outcome.noop;
});

/**
 * Destroy: stop and undefine the domain and remove its files; a no-op when it is absent (or
 * not ours). It reads only the live XML (ownership, and whether the domain runs: its id),
 * since every existing state allows destroy; should the table ever tell states apart, it
 * reads the state like every other operation.
 */
export async function destroy(ctx: DriverContext, uuid: string, options?: CallOptions): Promise<void> {
  const op = 'destroy';
  if (!DESTROY_IN_EVERY_STATE) {
    await withInstance(ctx, op, op, uuid, options, async (l) => {
      await removeDomain(ctx, l.ref, uuid, isActive(l.state));
      await releaseInstancePlugs(ctx, uuid, l.record);
    });
    return;
  }
  await ensureReady(ctx, op);
  try {
    const found = await identify(ctx, uuid, options?.signal);
    if (!found) {
      enforceCell('ABSENT', op, { op, uuid });
      // What a spawn cut short or an earlier destroy left for this uuid (plugged, or on disk: a destroy whose process died after
      // the undefine, before the files): never a spawn in flight's (this process's, or another's claim), nor while a domain
      // (not ours) has the uuid.
      const leftover =
        (ctx.plugs.vif !== undefined || ctx.hasFiles) &&
        !ctx.inFlight.has(uuid) &&
        !(ctx.hasFiles && (await claimedByLiveSpawn(ctx.instanceDir(uuid)))) &&
        !(await uuidTaken(ctx, uuid, options?.signal));
      if (leftover) {
        if (ctx.plugs.vif !== undefined) await releaseInstancePlugs(ctx, uuid, undefined);
        // Nor the directory an incoming migration is filling.
        if (ctx.hasFiles && !(await listPrepared(ctx)).some((p) => p.target.instanceUuid === uuid)) await files.removeTree(ctx.instanceDir(uuid));
      }
      return;
    }
    const end = ctx.requested.begin(uuid, requestedKinds(op, found.domain.active ? 'RUNNING' : 'SHUTDOWN'));
    await removeDomain(ctx, found.ref, uuid, found.domain.active).then(
      () => end(arrivalKinds('ABSENT')),
      (err: unknown) => {
        end();
        throw err;
      },
    );
    // The domain is gone: its taps and volumes can go (the record read before says which).
    await releaseInstancePlugs(ctx, uuid, found.record);
  } catch (err) {
    throw toContractError(err, op, uuid);
  }
}

/**
 * Rebuild: stop, new root disk from the new image (and fresh local disks unless preserved),
 * redefine, and start again unless its user left it stopped (SHUTDOWN stays SHUTDOWN; a
 * running or crashed instance ends RUNNING).
 */
export async function rebuild(ctx: DriverContext, uuid: string, s: RebuildSpec, options?: CallOptions): Promise<void> {
  const image = await requireImage(ctx, s.image, 'rebuild', ['spec', 'image']);
  await withInstance(ctx, 'rebuild', 'rebuild', uuid, options, async (l, { to }) => {
    const r = l.record;
    const env = ctx.env(uuid, l.domain.name);
    // The new image must fit the instance's flavor, checked before anything is stopped.
    const tooSmall = image && rootSizeIssue(image, r.flavor.rootGb, s.image.minDiskGb, ['spec', 'image', 'id'], "instance's flavor's");
    if (tooSmall) throw errors.invalidInput([tooSmall], 'rebuild');
    await hardStop(ctx, l.ref);
    // An instance that crashed in rescue comes back from a rebuild in normal mode (R-REBUILD-CRASHED):
    // its rescue disk goes, and the domain boots the rebuilt root disk.
    const wasRescued = r.mode === 'rescue';
    r.mode = 'normal';
    delete r.rescueImage;
    r.image = imageRecord(s.image);
    if (s.metadata !== undefined) r.metadata = s.metadata;
    if (ctx.hasFiles) {
      await makeRootDisk(imagePath(ctx, s.image.id), rootDiskPath(env), image!, r.flavor.rootGb);
      if (!s.preserveEphemeral) await makeLocalDisks(r, env);
    }
    await ctx.client.defineXml(buildDomainXml(r, env));
    if (wasRescued && ctx.hasFiles) await files.removeFile(rescueDiskPath(env));
    if (to === 'RUNNING') await ctx.client.create(l.ref, 0, options?.signal ? { signal: options.signal } : undefined);
  });
}
