/**
 * Power: powerOff (soft with a hard fallback when a grace period is given), powerOn, reboot
 * (soft with a hard fallback; from a powered-off node, a power on), and the power actions the
 * other operations end with. Ironic accepts every power target in every provision state and
 * answers 202; the action completes when power_state reaches the target with none pending.
 * From CRASHED the node is recovered first (recovery.ts), then powered as the table says.
 */
import type { RebootType, SemanticState } from '@nova-common/core';
import { IronicApiError } from '../client/client.js';
import type { PowerTarget } from '../client/endpoints/states.js';
import type { IronicNode } from '../client/types.js';
import { WaitFailedError } from '../wait/node-watcher.js';
import { POWER_FAILURE_FAULT } from '../mapping/state.js';
import { withContractErrors, type IronicContext } from './context.js';
import { clearPowerFailure, recoverProvisioning } from './recovery.js';

type PowerValue = 'power on' | 'power off';

/** Ask for a power target and wait until Ironic reports `expect` with no action pending. */
export async function powerAction(
  ctx: IronicContext,
  nodeUuid: string,
  target: PowerTarget,
  expect: PowerValue,
  timeoutS: number | undefined,
  signal?: AbortSignal,
): Promise<IronicNode> {
  await ctx.client.states.power(nodeUuid, target, timeoutS, { signal });
  return ctx.waitFor(nodeUuid, `power:${target}`, ctx.config.actionTimeoutMs, signal, (n) => {
    if (n.target_power_state) return 'continue';
    if (n.power_state === expect) return 'done';
    return { fail: n.last_error ?? `power state is ${n.power_state} after ${target}` };
  });
}

/** The node with power `want`, asking for it only when it is not there already. */
export function ensurePower(ctx: IronicContext, node: IronicNode, want: PowerValue, signal?: AbortSignal): Promise<IronicNode> {
  if (node.power_state === want && !node.target_power_state) return Promise.resolve(node);
  return powerAction(ctx, node.uuid, want, want, undefined, signal);
}

/**
 * A soft action, or undefined when Ironic refused it or it did not complete (the caller then
 * does the hard one). A soft action is not a retry of anything: it is a different request.
 */
function softly(action: Promise<IronicNode>): Promise<IronicNode | undefined> {
  return action.catch((e: unknown) => {
    if (e instanceof WaitFailedError || (e instanceof IronicApiError && e.kind === 'bad-request')) return undefined;
    throw e;
  });
}

/** The node of an instance in `state`, made usable for a power action: recovered when CRASHED. */
function usable(ctx: IronicContext, op: string, uuid: string, node: IronicNode, state: SemanticState, signal?: AbortSignal): Promise<IronicNode> {
  return state === 'CRASHED' ? recoverProvisioning(ctx, op, uuid, node, signal) : Promise.resolve(node);
}

/**
 * Power an instance's node to `want`. A node whose power Ironic lost (fault `power failure`) is
 * always sent the action, since its recorded power state cannot be trusted, and leaves
 * maintenance once the action succeeded.
 */
async function powerTo(ctx: IronicContext, node: IronicNode, want: PowerValue, signal?: AbortSignal): Promise<IronicNode> {
  const done = node.fault === POWER_FAILURE_FAULT ? await powerAction(ctx, node.uuid, want, want, undefined, signal) : await ensurePower(ctx, node, want, signal);
  return clearPowerFailure(ctx, done, signal);
}

/**
 * Bring an instance in `state` to power off: gracefully first when `gracefulMs > 0` and it runs
 * (Ironic's soft power off, bounded by the grace period), then hard.
 */
export async function bringOff(
  ctx: IronicContext,
  op: string,
  uuid: string,
  node: IronicNode,
  state: SemanticState,
  gracefulMs: number,
  signal?: AbortSignal,
): Promise<IronicNode> {
  const current = await usable(ctx, op, uuid, node, state, signal);
  if (gracefulMs > 0 && current.power_state === 'power on' && current.fault !== POWER_FAILURE_FAULT) {
    const timeoutS = Math.max(1, Math.ceil(gracefulMs / 1000));
    const soft = await softly(powerAction(ctx, current.uuid, 'soft power off', 'power off', timeoutS, signal));
    return soft ?? (await powerAction(ctx, current.uuid, 'power off', 'power off', undefined, signal));
  }
  return powerTo(ctx, current, 'power off', signal);
}

/** Bring an instance in `state` to power on (from CRASHED: recovered, then powered on if it is not). */
export async function bringOn(ctx: IronicContext, op: string, uuid: string, node: IronicNode, state: SemanticState, signal?: AbortSignal): Promise<IronicNode> {
  return powerTo(ctx, await usable(ctx, op, uuid, node, state, signal), 'power on', signal);
}

export async function powerOff(ctx: IronicContext, uuid: string, gracefulTimeoutMs: number, signal?: AbortSignal): Promise<void> {
  const op = 'powerOff';
  const { node, noop, state } = await ctx.enter(op, 'powerOff', uuid, signal);
  if (noop) return;
  await withContractErrors({ op, target: uuid, currentState: state }, async () => {
    const done = await bringOff(ctx, op, uuid, node, state, gracefulTimeoutMs, signal);
    ctx.events.afterTransition(uuid, state, done);
  });
}

export async function powerOn(ctx: IronicContext, uuid: string, signal?: AbortSignal): Promise<void> {
  const op = 'powerOn';
  const { node, noop, state } = await ctx.enter(op, 'powerOn', uuid, signal);
  if (noop) return;
  await withContractErrors({ op, target: uuid, currentState: state }, async () => {
    const done = await bringOn(ctx, op, uuid, node, state, signal);
    ctx.events.afterTransition(uuid, state, done);
  });
}

/**
 * Reboot. From SHUTDOWN, NOSTATE or CRASHED there is no guest to ask: the machine is booted (a
 * CRASHED node is recovered first, which boots the instance anew). A soft reboot lets go as soon
 * as its signal aborts (a hard reboot or a destroy preempts it through the guard): the wait ends
 * at once and the call rejects with the signal's CANCELLED.
 */
export async function reboot(ctx: IronicContext, uuid: string, type: RebootType, signal?: AbortSignal): Promise<void> {
  const op = 'reboot';
  const { node, state } = await ctx.enter(op, type === 'SOFT' ? 'rebootSoft' : 'rebootHard', uuid, signal);
  await withContractErrors({ op, target: uuid, currentState: state }, async () => {
    let done: IronicNode | undefined;
    if (state === 'CRASHED' || node.power_state !== 'power on') {
      done = await bringOn(ctx, op, uuid, node, state, signal);
    } else if (type === 'SOFT') {
      done = await softly(powerAction(ctx, node.uuid, 'soft rebooting', 'power on', ctx.config.softTimeoutS, signal));
    }
    done ??= await powerAction(ctx, node.uuid, 'rebooting', 'power on', undefined, signal);
    ctx.events.afterTransition(uuid, state, done);
  });
}
