/**
 * Spawn, destroy and rebuild: deploys as Nova's ironic driver makes them (reserve with
 * instance_info, validate, VIFs, deploy with a config drive, wait for `active`, power as asked),
 * and a spawn that fails anywhere leaves nothing behind.
 */
import { DriverError, enforceCell, errors, holderIsGone, type ImageMeta, type InstanceSpec, type RebuildSpec } from '@nova-common/core';
import type { IronicNode } from '../client/types.js';
import { BinaryUserDataError, buildConfigDrive, configDriveOfRecord } from '../mapping/configdrive.js';
import { toContractError } from '../mapping/errors.js';
import { checkImageId } from '../mapping/ids.js';
import { ImageInputError, imageDetails, type ImageDetails } from '../mapping/image-source.js';
import { readOwnerRecord, rebuildPatch } from '../mapping/instance-info.js';
import { semanticStateOf } from '../mapping/state.js';
import { WaitFailedError, WaitTimeoutError, type Verdict } from '../wait/node-watcher.js';
import { withContractErrors, type IronicContext } from './context.js';
import { reserve } from './placement.js';
import { ensurePower } from './power.js';
import { recoverProvisioning, UNRESCUE_FROM } from './recovery.js';
import { release, teardown } from './teardown.js';

/** The verdict of a deploy or rebuild wait: `active` with nothing pending, or a failed state. */
function deployed(what: string, notStarted?: boolean): (n: IronicNode) => Verdict {
  return (n) => {
    if (n.provision_state === 'active' && !n.target_provision_state) return 'done';
    if (n.provision_state === 'deploy failed' || n.provision_state === 'error') return { fail: n.last_error ?? `${what} ended in ${n.provision_state}` };
    if (notStarted && n.provision_state === 'available' && !n.target_provision_state) return { fail: `the ${what} did not start` };
    return 'continue';
  };
}

export async function spawn(ctx: IronicContext, spec: InstanceSpec, signal?: AbortSignal): Promise<void> {
  const op = 'spawn';
  ctx.requireConnected();
  if (spec.blockDeviceInfo.volumes.length > 0) {
    throw errors.invalidInput([{ path: ['blockDeviceInfo', 'volumes'], message: 'this driver attaches no volumes (no volume transport)' }], op);
  }
  checkImageId(spec.image.id, op, ['spec', 'image', 'id']);
  let configdrive: ReturnType<typeof buildConfigDrive>;
  try {
    configdrive = buildConfigDrive(spec, ctx.configDriveOptions());
  } catch (e) {
    if (e instanceof BinaryUserDataError) throw errors.invalidInput([{ path: ['userData'], message: e.message }], op);
    throw toContractError(e, { op });
  }
  const details = await detailsOf(ctx, spec.image, op);
  // A spawn of this uuid failed earlier while Ironic could not be reached to undo it: undo it now.
  const leftover = ctx.unreleased.get(spec.uuid);
  if (leftover !== undefined) {
    await withContractErrors({ op, target: spec.uuid }, () => release(ctx, spec.uuid, leftover));
    ctx.unreleased.delete(spec.uuid);
  }
  // No look-up first: Ironic keeps instance_uuid unique, so the reservation itself answers
  // 409 "already associated" for an existing instance (INSTANCE_EXISTS), one request fewer.
  let node: IronicNode | undefined;
  let stage = 'reserving';
  try {
    node = await reserve(ctx, spec, details, signal).catch(async (e: unknown) => {
      if (!(e instanceof DriverError && e.code === 'INSTANCE_EXISTS') || !(await reclaimAbandoned(ctx, spec.uuid, signal))) throw e;
      return reserve(ctx, spec, details, signal);
    });
    const nodeUuid = node.uuid;
    stage = 'validating';
    const verdict = await ctx.client.nodes.validate(nodeUuid, { signal });
    for (const iface of ['power', 'deploy'] as const) {
      if (verdict[iface]?.result === false) {
        throw new DriverError('NODE_UNAVAILABLE', { op, target: nodeUuid, detail: `Ironic validation of ${iface} failed: ${verdict[iface]?.reason ?? 'no reason given'}` });
      }
    }
    stage = 'attaching interfaces';
    for (const vif of spec.networkInfo) await ctx.client.vifs.attach(nodeUuid, vif.id, { signal });
    stage = 'deploying';
    await ctx.client.states.provision(nodeUuid, 'active', { configdrive }, { signal });
    const active = await ctx.waitFor(nodeUuid, 'deploy', ctx.config.deployTimeoutMs, signal, deployed('deploy', true));
    stage = 'powering';
    const final = await ensurePower(ctx, active, spec.powerOn ? 'power on' : 'power off', signal);
    ctx.events.afterSpawn(spec.uuid, final);
  } catch (e) {
    // INSTANCE_EXISTS: the uuid belongs to an existing instance, which must stay as it is.
    if (e instanceof DriverError && e.code === 'INSTANCE_EXISTS') throw e;
    // Anything else: undo whatever happened, including a reservation whose answer we never
    // got (aborted or timed out while Ironic applied it): look the instance up afresh.
    const released = await release(ctx, spec.uuid, spec.networkInfo).then(
      () => undefined,
      (err: unknown) => err,
    );
    // Not undone (Ironic unreachable): a retried spawn of this uuid undoes it first.
    if (released !== undefined) ctx.unreleased.set(spec.uuid, spec.networkInfo.map((v) => ({ id: v.id })));
    throw spawnError(e, stage, node?.uuid ?? spec.node ?? '', spec.uuid, released);
  }
}

/**
 * A reservation a killed spawn left: the node still `available` (its deploy never began) and
 * holding the instance, reserved by a process that has certainly died (core's holderIsGone; a
 * live process or one on another host is never judged). Released, so the retried spawn
 * converges instead of meeting its own half-made instance (INSTANCE_EXISTS) for good. A node
 * Ironic was asked to deploy is an instance from then on (CRASHED if the deploy failed).
 */
async function reclaimAbandoned(ctx: IronicContext, uuid: string, signal?: AbortSignal): Promise<boolean> {
  const node = await ctx.nodeOfInstance(uuid, signal);
  const rec = node ? readOwnerRecord(node) : undefined;
  if (!node || !rec?.holder || node.provision_state !== 'available' || node.target_provision_state || !holderIsGone(rec.holder)) return false;
  await release(ctx, uuid, rec.vifs);
  return true;
}

export async function destroy(ctx: IronicContext, uuid: string, signal?: AbortSignal): Promise<void> {
  const op = 'destroy';
  const node = await withContractErrors({ op, target: uuid }, () => ctx.nodeOfInstance(uuid, signal));
  // Absent is a no-op; and a node with someone else's instance is never touched.
  const before = node ? semanticStateOf(node) : 'ABSENT';
  const { noop } = enforceCell(before, 'destroy', { op, uuid });
  ctx.unreleased.delete(uuid);
  if (noop || !node) return;
  ctx.events.observe(uuid, node);
  const rec = readOwnerRecord(node);
  await withContractErrors({ op, target: uuid }, () => teardown(ctx, node.uuid, uuid, rec?.vifs ?? [], signal, node));
  ctx.events.afterDestroy(uuid, before, node);
}

/**
 * Rebuild: the new image (and metadata) patched into instance_info, Ironic's `rebuild` with a new
 * config drive, then the power the instance had: since 1.1 a rebuild from SHUTDOWN ends SHUTDOWN
 * (a real deploy boots the machine, so it is powered off again), from RUNNING and CRASHED RUNNING.
 * Ironic rebuilds from `deploy failed` and `error` directly; a node whose rescue or unrescue failed
 * is unrescued first. In maintenance Ironic refuses to provision: CONFLICT, nothing changed.
 */
export async function rebuild(ctx: IronicContext, uuid: string, spec: RebuildSpec, signal?: AbortSignal): Promise<void> {
  const op = 'rebuild';
  checkImageId(spec.image.id, op, ['spec', 'image', 'id']);
  const details = await detailsOf(ctx, spec.image, op);
  const { node, state } = await ctx.enter(op, 'rebuild', uuid, signal);
  const rec = readOwnerRecord(node)!;
  if (node.maintenance) {
    // Ironic refuses to rebuild a node in maintenance: refused before the image is patched in.
    throw new DriverError('CONFLICT', { op, target: uuid, detail: `node ${node.uuid} is in maintenance (${node.maintenance_reason ?? 'no reason given'})` });
  }
  await withContractErrors({ op, target: uuid, currentState: state }, async () => {
    const ready = UNRESCUE_FROM.has(node.provision_state ?? '') ? await recoverProvisioning(ctx, op, uuid, node, signal) : node;
    const patched = await ctx.client.nodes.patch(ready.uuid, rebuildPatch(rec, spec.image, spec.metadata, spec.preserveEphemeral, ctx.config, details, ready.instance_info ? ready : node), { signal });
    const configdrive = configDriveOfRecord(uuid, readOwnerRecord(patched) ?? rec, ctx.configDriveOptions());
    await ctx.client.states.provision(ready.uuid, 'rebuild', { configdrive }, { signal });
    const rebuilt = await ctx.waitFor(ready.uuid, 'deploy', ctx.config.deployTimeoutMs, signal, deployed('rebuild'));
    const done = await ensurePower(ctx, rebuilt, state === 'SHUTDOWN' ? 'power off' : 'power on', signal);
    ctx.events.afterTransition(uuid, state, done);
  });
}

/** The image details Ironic needs (image-source.ts); INVALID_INPUT naming the missing field. */
async function detailsOf(ctx: IronicContext, image: ImageMeta, op: string): Promise<ImageDetails> {
  try {
    return await imageDetails(image, ctx.config, ctx.digest);
  } catch (e) {
    if (e instanceof ImageInputError) throw errors.invalidInput([e.issue], op);
    throw toContractError(e, { op });
  }
}

/** The contract's error for a spawn that failed at `stage` (the node has been released, or `releaseError` says why not). */
function spawnError(cause: unknown, stage: string, nodeUuid: string, uuid: string, releaseError: unknown): DriverError {
  const op = 'spawn';
  const releaseNote = releaseError === undefined ? 'node released' : `releasing the node failed too: ${String((releaseError as Error)?.message ?? releaseError)}`;
  if (cause instanceof WaitFailedError) {
    return new DriverError('NODE_UNAVAILABLE', { op, target: nodeUuid, detail: `${stage} failed on node ${nodeUuid}: ${cause.message}; ${releaseNote}`, cause });
  }
  if (cause instanceof WaitTimeoutError) {
    return new DriverError('TIMEOUT', { op, target: uuid, detail: `${cause.message}; ${releaseNote}`, cause });
  }
  if (cause instanceof DriverError) return cause;
  const mapped = toContractError(cause, { op, target: uuid });
  if (mapped.code === 'INTERNAL' || mapped.code === 'INVALID_STATE') {
    // INVALID_STATE is not a spawn error: the node moved under us (it is not available).
    return new DriverError(mapped.code === 'INVALID_STATE' ? 'NODE_UNAVAILABLE' : 'INTERNAL', {
      op,
      target: nodeUuid,
      detail: `${stage} on node ${nodeUuid}: ${(cause as Error)?.message ?? String(cause)}; ${releaseNote}`,
      cause,
    });
  }
  return mapped;
}
