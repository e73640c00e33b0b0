/**
 * Recovering the node of a CRASHED instance, which the contract asks of a bare-metal driver before
 * the CRASHED row's actions (power off, power on, reboot, rescue, restoreState):
 *
 *   deploy failed, error           -> Ironic's `rebuild`: the instance's image is deployed again, with
 *                                     a config drive made from the ownership record; ends `active`
 *   rescue failed, unrescue failed -> `unrescue`; ends `active`
 *   fault `power failure`          -> nothing to provision: the power action itself is the test. Once
 *                                     it succeeded, the maintenance Ironic set for the failure is
 *                                     cleared (clearPowerFailure), as Ironic's own power-failure
 *                                     recovery does when it can read the power again.
 *
 * The power state is left as the recovery leaves it; the caller then powers the node as its
 * operation says. Ironic refuses to provision a node in maintenance: CONFLICT (the operator's lock,
 * retryable). When Ironic refuses the recovery otherwise, or it fails again, the answer is
 * BACKEND_UNAVAILABLE (retryable): the node cannot host the instance now; retry later or destroy.
 */
import { DriverError } from '@nova-common/core';
import { IronicApiError, isMaintenanceMessage } from '../client/errors.js';
import { STATE_FIELDS, type IronicNode } from '../client/types.js';
import { configDriveOfRecord } from '../mapping/configdrive.js';
import { readOwnerRecord } from '../mapping/instance-info.js';
import { FAILED_PROVISION_STATES, POWER_FAILURE_FAULT } from '../mapping/state.js';
import { WaitFailedError } from '../wait/node-watcher.js';
import type { IronicContext } from './context.js';

/** Failed states Ironic leaves by deploying again (`rebuild` is accepted from both). */
const REDEPLOY_FROM: ReadonlySet<string> = new Set(['deploy failed', 'error']);
/** Failed states Ironic leaves by `unrescue` (and from which it accepts `rescue` again). */
export const UNRESCUE_FROM: ReadonlySet<string> = new Set(['rescue failed', 'unrescue failed']);

/** Whether the node must be provisioned again before it hosts a usable instance. */
export function needsProvisioning(node: IronicNode): boolean {
  const ps = node.provision_state ?? '';
  return REDEPLOY_FROM.has(ps) || UNRESCUE_FROM.has(ps);
}

/** Bring the node of a CRASHED instance back to `active` (power untouched); any other node is returned as it is. */
export async function recoverProvisioning(ctx: IronicContext, op: string, uuid: string, node: IronicNode, signal?: AbortSignal): Promise<IronicNode> {
  if (!needsProvisioning(node)) return node;
  const from = node.provision_state ?? '';
  if (node.maintenance) {
    throw new DriverError('CONFLICT', {
      op,
      target: uuid,
      detail: `node ${node.uuid} is in maintenance (${node.maintenance_reason ?? 'no reason given'}); recovering it from ${from} needs Ironic to provision it`,
    });
  }
  const redeploy = REDEPLOY_FROM.has(from);
  try {
    if (redeploy) {
      const rec = readOwnerRecord(node);
      const configdrive = rec ? configDriveOfRecord(uuid, rec, ctx.configDriveOptions()) : undefined;
      await ctx.client.states.provision(node.uuid, 'rebuild', configdrive ? { configdrive } : {}, { signal });
    } else {
      await ctx.client.states.provision(node.uuid, 'unrescue', {}, { signal });
    }
    // Ironic moves the node out of its failed state before it answers (the conductor call is
    // synchronous), so a failed state seen afterwards is a new failure.
    return await ctx.waitFor(node.uuid, redeploy ? 'deploy' : 'unrescue', redeploy ? ctx.config.deployTimeoutMs : ctx.config.actionTimeoutMs, signal, (n) => {
      if (n.provision_state === 'active' && !n.target_provision_state) return 'done';
      if (FAILED_PROVISION_STATES.has(n.provision_state ?? '')) return { fail: n.last_error ?? `ended in ${n.provision_state}` };
      return 'continue';
    });
  } catch (e) {
    if (e instanceof IronicApiError && e.kind === 'bad-request' && isMaintenanceMessage(e.detail)) {
      throw new DriverError('CONFLICT', { op, target: uuid, detail: `node ${node.uuid} is in maintenance: ${e.detail}`, cause: e });
    }
    if (e instanceof WaitFailedError || (e instanceof IronicApiError && (e.kind === 'bad-request' || e.kind === 'conflict'))) {
      const why = e instanceof WaitFailedError ? e.message : e.detail;
      throw new DriverError('BACKEND_UNAVAILABLE', { op, target: uuid, detail: `Ironic could not recover node ${node.uuid} from ${from}: ${why}`, cause: e });
    }
    throw e;
  }
}

/** After a power action succeeded on a node whose power Ironic had lost: out of the maintenance Ironic set for it. */
export async function clearPowerFailure(ctx: IronicContext, node: IronicNode, signal?: AbortSignal): Promise<IronicNode> {
  if (node.fault !== POWER_FAILURE_FAULT) return node;
  await ctx.client.nodes.clearMaintenance(node.uuid, { signal });
  return ctx.client.nodes.get(node.uuid, [...STATE_FIELDS], { signal });
}
