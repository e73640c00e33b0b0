/**
 * Spawn, destroy and rebuild: deploys as Nova's ironic driver makes them (reserve with
 * instance_info, validate, VIFs, deploy with a config drive, wait for `active`, power as asked),
 * and a spawn that fails anywhere leaves nothing behind.
 */
import { DriverError, enforceCell, errors, type InstanceSpec, type RebuildSpec } from '@nova-common/core';
import type { IronicNode } from '../client/types.js';
import { BinaryUserDataError, buildConfigDrive, type NetworkData } from '../mapping/configdrive.js';
import { toContractError } from '../mapping/errors.js';
import { readOwnerRecord, rebuildPatch, type OwnerRecord } from '../mapping/instance-info.js';
import { powerStateOfNode, semanticStateOf } from '../mapping/state.js';
import { WaitFailedError, WaitTimeoutError, type Verdict } from '../wait/node-watcher.js';
import { withContractErrors, type IronicContext } from './context.js';
import { reserve } from './placement.js';
import { ensurePower } from './power.js';
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
  let configdrive: ReturnType<typeof buildConfigDrive>;
  try {
    configdrive = buildConfigDrive(spec);
  } catch (e) {
    if (e instanceof BinaryUserDataError) throw errors.invalidInput([{ path: ['userData'], message: e.message }], op);
    throw toContractError(e, { op });
  }
  // No look-up first: Ironic keeps instance_uuid unique, so the reservation itself answers
  // 409 "already associated" for an existing instance (INSTANCE_EXISTS), one request fewer.
  let node: IronicNode | undefined;
  let stage = 'reserving';
  try {
    node = await reserve(ctx, spec, signal);
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
    if (powerStateOfNode(final) === 'RUNNING') ctx.events.emit(spec.uuid, 'STARTED', final);
  } catch (e) {
    // INSTANCE_EXISTS: the uuid belongs to an existing instance, which must stay as it is.
    if (e instanceof DriverError && e.code === 'INSTANCE_EXISTS') throw e;
    // Anything else: undo whatever happened, including a reservation whose answer we never
    // got (aborted or timed out while Ironic applied it): look the instance up afresh.
    const released = await release(ctx, spec.uuid, spec.networkInfo).then(
      () => undefined,
      (err: unknown) => err,
    );
    throw spawnError(e, stage, node?.uuid ?? spec.node ?? '', spec.uuid, released);
  }
}

export async function destroy(ctx: IronicContext, uuid: string, signal?: AbortSignal): Promise<void> {
  const op = 'destroy';
  const node = await withContractErrors({ op, target: uuid }, () => ctx.nodeOfInstance(uuid, signal));
  // Absent is a no-op; and a node with someone else's instance is never touched.
  const before = node ? semanticStateOf(node) : 'ABSENT';
  const { noop } = enforceCell(before, 'destroy', { op, uuid });
  if (noop || !node) return;
  const rec = readOwnerRecord(node);
  await withContractErrors({ op, target: uuid }, () => teardown(ctx, node.uuid, uuid, rec?.vifs ?? [], signal, node));
  ctx.events.afterDestroy(uuid, before, node);
}

export async function rebuild(ctx: IronicContext, uuid: string, spec: RebuildSpec, signal?: AbortSignal): Promise<void> {
  const op = 'rebuild';
  const { node, state } = await ctx.enter(op, 'rebuild', uuid, signal);
  const rec = readOwnerRecord(node)!;
  await withContractErrors({ op, target: uuid, currentState: state }, async () => {
    const patched = await ctx.client.nodes.patch(node.uuid, rebuildPatch(rec, spec.image, spec.metadata, spec.preserveEphemeral, ctx.config), { signal });
    const next = readOwnerRecord(patched) ?? rec;
    const configdrive = buildConfigDrive({ uuid, name: next.name, metadata: next.metadata, networkInfo: [] });
    configdrive.network_data = networkDataFromRecord(next);
    await ctx.client.states.provision(node.uuid, 'rebuild', { configdrive }, { signal });
    const rebuilt = await ctx.waitFor(node.uuid, 'deploy', ctx.config.deployTimeoutMs, signal, deployed('rebuild'));
    const done = await ensurePower(ctx, rebuilt, 'power on', signal);
    ctx.events.afterTransition(uuid, state, done);
  });
}

/** network_data for a rebuild: links for the interfaces the instance has now (addresses only). */
function networkDataFromRecord(rec: OwnerRecord): NetworkData {
  return {
    links: rec.vifs.map((v) => ({ id: `tap${v.id.slice(0, 11)}`, type: 'phy' as const, ethernet_mac_address: v.address, mtu: null, vif_id: v.id })),
    networks: rec.vifs.map((v, i) => ({ id: `network${i}`, type: 'ipv4_dhcp', link: `tap${v.id.slice(0, 11)}` })),
    services: [],
  };
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
