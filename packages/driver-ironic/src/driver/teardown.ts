/**
 * Bringing a node back to the pool: after destroy, and to undo a spawn that failed or was
 * cancelled. Fake hardware's teardown does not power off, so the driver does; VIFs are detached;
 * then `deleted`, and the node is ours no more once Ironic has cleared instance_uuid (cleaning
 * continues asynchronously). A node never deployed is just un-reserved.
 *
 * instance_info: un-reserving removes only the driver's keys (and puts back an operator's values
 * of keys it had overwritten); a teardown makes Ironic clear all of instance_info itself, so once
 * the node is free and settled again (cleaning done) the driver writes the operator's keys back
 * (`restoreOperatorInfo`, in the background: destroy does not wait for cleaning). A spawn of this
 * process waits for that before it reserves the node.
 */
import { DriverError } from '@nova-common/core';
import { IronicApiError } from '../client/client.js';
import { STATE_FIELDS, type IronicNode } from '../client/types.js';
import { readOwnerRecord, releasePatch, restorePatch } from '../mapping/instance-info.js';
import type { IronicContext } from './context.js';
import { detachVifQuietly } from './interfaces.js';
import { powerAction } from './power.js';

/** Provision states where a teardown has nothing left to do for the instance. */
const TORN_DOWN = new Set(['cleaning', 'clean wait', 'available', 'clean failed', 'manageable', 'enroll']);
/** Provision states in which no conductor work is running (a failed state keeps its target set). */
const SETTLED = new Set(['active', 'available', 'deploy failed', 'error', 'rescue', 'rescue failed', 'unrescue failed', 'clean failed', 'manageable', 'enroll', 'inspect failed', 'adopt failed']);
const settled = (n: IronicNode) => SETTLED.has(n.provision_state ?? '') && !n.target_power_state;
/** Provision states Ironic accepts `deleted` from. */
const UNDEPLOYABLE = new Set(['active', 'deploy failed', 'error', 'wait call-back', 'rescue', 'rescue failed', 'unrescue failed', 'rescue wait']);
/** Provision states of a node that is reserved but was never deployed. */
const RESERVED_ONLY = new Set(['available', 'enroll', 'manageable']);
/** How many times teardown reads the node and acts on what it sees before giving up. */
const ROUNDS = 6;
/** Provision states of a node Ironic is tearing down or has torn down (instance_info cleared at the end). */
const UNDEPLOYING = new Set(['deleting', 'cleaning', 'clean wait', 'clean failed']);
/** Provision states of a free node whose instance_info can be written (no transition under way). */
const WRITABLE_FREE = new Set(['available', 'manageable', 'enroll', 'clean failed']);
const INFO_FIELDS = [...STATE_FIELDS, 'instance_info'];

/** Undo a spawn: tear down or un-reserve the node holding the instance, detach VIFs, as if it never happened. */
export async function release(ctx: IronicContext, instanceUuid: string, vifs: readonly { id: string }[]): Promise<void> {
  // Not the caller's signal: a cancelled or timed-out spawn must still clean up.
  const signal = AbortSignal.timeout(ctx.config.actionTimeoutMs);
  const node = await ctx.nodeOfInstance(instanceUuid, signal);
  if (node) await teardown(ctx, node.uuid, instanceUuid, vifs, signal, node);
}

/**
 * Bring a node hosting `instanceUuid` back to the pool. Each round reads the node and acts on
 * what it sees, because a request we gave up on (an aborted spawn) may still change it under
 * us; a 400/409 means it moved, and the next round looks again. The rounds converge on a state,
 * they do not repeat a failed request (the client already retried the transient ones).
 */
export async function teardown(
  ctx: IronicContext,
  nodeUuid: string,
  instanceUuid: string,
  vifs: readonly { id: string }[],
  signal?: AbortSignal,
  known?: IronicNode,
): Promise<void> {
  const first = known?.instance_info ? known : await ctx.client.nodes.get(nodeUuid, INFO_FIELDS, { signal });
  const operatorInfo = readOwnerRecord(first)?.operatorInfo ?? {};
  const outcome = await tearDownNode(ctx, nodeUuid, instanceUuid, vifs, signal, first);
  if (outcome === 'undeployed' && Object.keys(operatorInfo).length > 0) restoreOperatorInfo(ctx, nodeUuid, operatorInfo);
}

/** `undeployed`: Ironic tore the node down (and cleared instance_info); `released`: un-reserved, or gone from us otherwise. */
async function tearDownNode(
  ctx: IronicContext,
  nodeUuid: string,
  instanceUuid: string,
  vifs: readonly { id: string }[],
  signal: AbortSignal | undefined,
  known: IronicNode,
): Promise<'undeployed' | 'released'> {
  const ours = (n: IronicNode) => n.instance_uuid === instanceUuid;
  let undeployed = false;
  const done = () => (undeployed ? 'undeployed' : 'released');
  let vifsDetached = false;
  for (let round = 0; round < ROUNDS; round++) {
    // The first round may use the node the caller has just read (destroy: one request fewer).
    let node = round === 0 ? known : await ctx.client.nodes.get(nodeUuid, STATE_FIELDS, { signal });
    if (!ours(node)) return done();
    if (UNDEPLOYING.has(node.provision_state ?? '')) undeployed = true;
    if (!settled(node) && node.provision_state !== 'deleting' && !TORN_DOWN.has(node.provision_state ?? '')) {
      node = await ctx.waitFor(nodeUuid, 'settle', ctx.config.deployTimeoutMs, signal, (n) => (settled(n) || !ours(n) ? 'done' : 'continue'));
      if (!ours(node)) return done();
    }
    // Off, and known to be: a node whose power Ironic lost (NOSTATE) would come back from cleaning
    // with no power state, and no instance can be placed on such a node.
    if (node.power_state === 'power on' || node.power_state === null || node.power_state === undefined) {
      node = await powerAction(ctx, nodeUuid, 'power off', 'power off', undefined, signal);
    }
    if (!vifsDetached) {
      for (const vif of vifs) await detachVifQuietly(ctx, nodeUuid, vif.id, signal);
      vifsDetached = true;
    }
    const ps = node.provision_state ?? '';
    try {
      if (RESERVED_ONLY.has(ps)) {
        const current = await ctx.client.nodes.get(nodeUuid, INFO_FIELDS, { signal });
        if (ours(current)) await ctx.client.nodes.patch(nodeUuid, releasePatch(current), { signal });
        continue; // verify on the next round
      }
      if (UNDEPLOYABLE.has(ps)) {
        undeployed = true;
        await ctx.client.states.provision(nodeUuid, 'deleted', {}, { signal });
      }
    } catch (e) {
      if (e instanceof IronicApiError && (e.kind === 'bad-request' || e.kind === 'conflict')) continue; // it moved: look again
      throw e;
    }
    await ctx.waitFor(nodeUuid, 'teardown', ctx.config.actionTimeoutMs, signal, (n) => {
      if (!ours(n) && (TORN_DOWN.has(n.provision_state ?? '') || !n.target_provision_state)) return 'done';
      if (n.provision_state === 'error' && !n.target_provision_state) return { fail: n.last_error ?? 'teardown ended in error' };
      if (ours(n) && settled(n) && n.provision_state !== 'active') return 'done'; // re-check next round
      return 'continue';
    });
  }
  const last = await ctx.client.nodes.get(nodeUuid, STATE_FIELDS, { signal });
  if (ours(last)) throw new DriverError('INTERNAL', { target: nodeUuid, detail: `node still holds instance ${instanceUuid} in ${last.provision_state}` });
  return done();
}

/**
 * Write an operator's instance_info entries back on a node Ironic tore down, once it is free
 * and settled (after cleaning; Ironic refuses changes during it), in the background, bounded by
 * nodeAvailableMs plus actionTimeoutMs. Only keys the node lacks then are added. Gives up
 * silently when the node was taken by another host first or Ironic does not answer: a process
 * that ends before it leaves them unwritten.
 */
export function restoreOperatorInfo(ctx: IronicContext, nodeUuid: string, operatorInfo: Record<string, unknown>): void {
  const signal = AbortSignal.timeout(ctx.config.nodeAvailableMs + ctx.config.actionTimeoutMs);
  const free = (n: IronicNode) => !n.instance_uuid && !n.target_provision_state && WRITABLE_FREE.has(n.provision_state ?? '');
  const work = (async () => {
    const settledNode = await ctx.waitFor(nodeUuid, 'clean', ctx.config.nodeAvailableMs + ctx.config.actionTimeoutMs, signal, (n) =>
      free(n) || n.instance_uuid ? 'done' : 'continue',
    );
    if (settledNode.instance_uuid) return;
    const node = await ctx.client.nodes.get(nodeUuid, INFO_FIELDS, { signal });
    if (!free(node)) return;
    const ops = restorePatch(operatorInfo, node);
    if (ops.length > 0) await ctx.client.nodes.patch(nodeUuid, ops, { signal });
  })()
    .catch(() => undefined)
    .finally(() => {
      if (ctx.restoring.get(nodeUuid) === work) ctx.restoring.delete(nodeUuid);
    });
  ctx.restoring.set(nodeUuid, work);
}
