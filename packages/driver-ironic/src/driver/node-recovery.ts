/**
 * Bringing free nodes back from Ironic's failure states. A node holding no instance that Ironic
 * left failed is lost to the pool until someone acts: a destroy cut short (Ironic restarted while
 * cleaning: `clean failed`), a cleaning step that failed, a deploy without an instance that failed.
 * The driver acts for the nodes it manages (nodeFilter), on initHost and before it places an
 * instance, along the transitions Ironic's state machine has out of each state
 * (ironic/common/states.py):
 *
 *   clean failed, target available       `manage` (to manageable, synchronous), then `provide`:
 *     (automated cleaning: after a        cleaning again, then available
 *     teardown or a `provide`)
 *   deploy failed, error, rescue failed,  `deleted`: undeploy, cleaning, available
 *   unrescue failed (no instance)
 *
 * A node this driver moved to manageable whose `provide` Ironic refused (it is retired, say) gets
 * `provide` again on a later pass, within the same attempts.
 *
 * Not recovered, and reported unavailable (listNodes reason `error` or `maintenance`, inventory
 * reserved): a node in maintenance (the operator's lock; Ironic also sets it when a clean step
 * fails, fault `clean failure`: hardware to look at), `clean failed` of a manual cleaning (target
 * manageable), `inspect failed` and `adopt failed`: those come from an operator's work on a node
 * outside the pool (manageable), and the way out Ironic offers (`manage`) leads back there, not
 * into the pool. A node with an instance is the instance's (CRASHED, recovery.ts), never touched
 * here. Each node gets at most nodeRecoveryAttempts attempts per process (counted again once it
 * was seen available), so a node that fails again and again stays failed for the operator.
 *
 * The driver does not wait for the cleaning that follows: the node is reported `cleaning` and
 * becomes available as after a destroy (nodeAvailableMs).
 */
import { IronicApiError } from '../client/client.js';
import type { ProvisionTarget } from '../client/endpoints/states.js';
import { STATE_FIELDS, type IronicNode } from '../client/types.js';
import type { IronicContext } from './context.js';

/** Failed states a free node leaves by undeploying (Ironic accepts `deleted` from each). */
const UNDEPLOY_FROM: ReadonlySet<string> = new Set(['deploy failed', 'error', 'rescue failed', 'unrescue failed']);

/** What the driver remembers about the nodes it recovers (per process). */
export class NodeRecoveryState {
  /** Attempts per node since it was last seen available. */
  readonly attempts = new Map<string, number>();
  /** Nodes this driver moved to manageable whose `provide` has not been accepted yet. */
  readonly parked = new Set<string>();
  /** Nodes a recovery of this process is working on right now. */
  readonly busy = new Set<string>();
}

/** The provision actions that bring a free node back to the pool, or undefined when the driver leaves it as it is. */
export function recoveryPlan(node: IronicNode, parked: ReadonlySet<string> = new Set()): ProvisionTarget[] | undefined {
  if (node.instance_uuid || node.maintenance) return undefined;
  const ps = node.provision_state ?? '';
  if (ps === 'clean failed' && node.target_provision_state === 'available') return ['manage', 'provide'];
  if (UNDEPLOY_FROM.has(ps)) return ['deleted'];
  if (ps === 'manageable' && !node.target_provision_state && parked.has(node.uuid)) return ['provide'];
  return undefined;
}

/**
 * Start the recovery of every node of `nodes` that has a plan (and attempts left). Returns the
 * uuids of the nodes it moved. Ironic refusing (the node moved, another host acted first) or
 * not answering leaves the node as it is for a later pass: recovery never fails the caller.
 */
export async function recoverFreeNodes(ctx: IronicContext, nodes: readonly IronicNode[], signal?: AbortSignal): Promise<string[]> {
  const state = ctx.nodeRecovery;
  const max = ctx.config.nodeRecoveryAttempts;
  for (const n of nodes) if (n.provision_state === 'available' && !n.target_provision_state) state.attempts.delete(n.uuid);
  const todo = nodes.filter((n) => {
    if (state.busy.has(n.uuid)) return false;
    const plan = recoveryPlan(n, state.parked);
    return plan !== undefined && (state.attempts.get(n.uuid) ?? 0) < max;
  });
  const moved = await Promise.all(todo.map((n) => recoverNode(ctx, n, signal)));
  return todo.filter((_, i) => moved[i]).map((n) => n.uuid);
}

/** One node along its plan; true when Ironic accepted every step. */
async function recoverNode(ctx: IronicContext, node: IronicNode, signal?: AbortSignal): Promise<boolean> {
  const state = ctx.nodeRecovery;
  const plan = recoveryPlan(node, state.parked);
  if (!plan) return false;
  state.busy.add(node.uuid);
  state.attempts.set(node.uuid, (state.attempts.get(node.uuid) ?? 0) + 1);
  try {
    for (const target of plan) {
      await ctx.client.states.provision(node.uuid, target, {}, { signal });
      if (target === 'manage') state.parked.add(node.uuid);
      if (target === 'provide') state.parked.delete(node.uuid);
    }
    return true;
  } catch (e) {
    // Refused (it moved, it is retired, another host acted) or unreachable: a later pass looks again.
    if (e instanceof IronicApiError || signal?.aborted) return false;
    throw e;
  } finally {
    state.busy.delete(node.uuid);
  }
}

/** A pass over every free node this host manages (initHost): one list call, then the recoveries. */
export async function recoverManagedNodes(ctx: IronicContext, signal?: AbortSignal): Promise<string[]> {
  if (ctx.config.nodeRecoveryAttempts === 0) return [];
  let nodes: IronicNode[];
  try {
    nodes = await ctx.managedNodes(STATE_FIELDS, signal, { associated: false, maintenance: false });
  } catch {
    return []; // Ironic not answering now: the next spawn looks again
  }
  return recoverFreeNodes(ctx, nodes, signal);
}
