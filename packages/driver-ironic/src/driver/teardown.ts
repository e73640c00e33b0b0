/**
 * Bringing a node back to the pool: after destroy, and to undo a spawn that failed or was
 * cancelled. Fake hardware's teardown does not power off, so the driver does; VIFs are detached;
 * then `deleted`, and the node is ours no more once Ironic has cleared instance_uuid (cleaning
 * continues asynchronously). A node never deployed is just un-reserved.
 */
import { DriverError } from '@nova-common/core';
import { IronicApiError } from '../client/client.js';
import { STATE_FIELDS, type IronicNode } from '../client/types.js';
import { releasePatch } from '../mapping/instance-info.js';
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
  const ours = (n: IronicNode) => n.instance_uuid === instanceUuid;
  let vifsDetached = false;
  for (let round = 0; round < ROUNDS; round++) {
    // The first round may use the node the caller has just read (destroy: one request fewer).
    let node = round === 0 && known ? known : await ctx.client.nodes.get(nodeUuid, STATE_FIELDS, { signal });
    if (!ours(node)) return;
    if (!settled(node) && node.provision_state !== 'deleting' && !TORN_DOWN.has(node.provision_state ?? '')) {
      node = await ctx.waitFor(nodeUuid, 'settle', ctx.config.deployTimeoutMs, signal, (n) => (settled(n) || !ours(n) ? 'done' : 'continue'));
      if (!ours(node)) return;
    }
    if (node.power_state === 'power on') node = await powerAction(ctx, nodeUuid, 'power off', 'power off', undefined, signal);
    if (!vifsDetached) {
      for (const vif of vifs) await detachVifQuietly(ctx, nodeUuid, vif.id, signal);
      vifsDetached = true;
    }
    const ps = node.provision_state ?? '';
    try {
      if (RESERVED_ONLY.has(ps)) {
        await ctx.client.nodes.patch(nodeUuid, releasePatch(), { signal });
        continue; // verify on the next round
      }
      if (UNDEPLOYABLE.has(ps)) await ctx.client.states.provision(nodeUuid, 'deleted', {}, { signal });
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
}
