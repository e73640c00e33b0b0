/**
 * Power: powerOff (soft with a hard fallback when a grace period is given), powerOn, reboot
 * (soft with a hard fallback; from a powered-off node, a power on), and the power actions the
 * other operations end with. Ironic accepts every power target in every provision state and
 * answers 202; the action completes when power_state reaches the target with none pending.
 */
import type { RebootType } from '@nova-common/core';
import { IronicApiError } from '../client/client.js';
import type { PowerTarget } from '../client/endpoints/states.js';
import type { IronicNode } from '../client/types.js';
import { WaitFailedError } from '../wait/node-watcher.js';
import { withContractErrors, type IronicContext } from './context.js';

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

export async function powerOff(ctx: IronicContext, uuid: string, gracefulTimeoutMs: number, signal?: AbortSignal): Promise<void> {
  const op = 'powerOff';
  const { node, noop, state } = await ctx.enter(op, 'powerOff', uuid, signal);
  if (noop) return;
  await withContractErrors({ op, target: uuid, currentState: state }, async () => {
    let done: IronicNode | undefined;
    if (gracefulTimeoutMs > 0 && node.power_state === 'power on') {
      const timeoutS = Math.max(1, Math.ceil(gracefulTimeoutMs / 1000));
      done = await softly(powerAction(ctx, node.uuid, 'soft power off', 'power off', timeoutS, signal));
    }
    done ??= await powerAction(ctx, node.uuid, 'power off', 'power off', undefined, signal);
    ctx.events.afterTransition(uuid, state, done);
  });
}

export async function powerOn(ctx: IronicContext, uuid: string, signal?: AbortSignal): Promise<void> {
  const op = 'powerOn';
  const { node, noop, state } = await ctx.enter(op, 'powerOn', uuid, signal);
  if (noop) return;
  await withContractErrors({ op, target: uuid, currentState: state }, async () => {
    const done = await powerAction(ctx, node.uuid, 'power on', 'power on', undefined, signal);
    ctx.events.afterTransition(uuid, state, done);
  });
}

export async function reboot(ctx: IronicContext, uuid: string, type: RebootType, signal?: AbortSignal): Promise<void> {
  const op = 'reboot';
  const { node, state } = await ctx.enter(op, type === 'SOFT' ? 'rebootSoft' : 'rebootHard', uuid, signal);
  await withContractErrors({ op, target: uuid, currentState: state }, async () => {
    let done: IronicNode | undefined;
    if (node.power_state !== 'power on') {
      // Rebooting a machine that is off means starting it (Ironic's reboot would too).
      done = await powerAction(ctx, node.uuid, 'power on', 'power on', undefined, signal);
    } else if (type === 'SOFT') {
      done = await softly(powerAction(ctx, node.uuid, 'soft rebooting', 'power on', ctx.config.softTimeoutS, signal));
    }
    done ??= await powerAction(ctx, node.uuid, 'rebooting', 'power on', undefined, signal);
    ctx.events.afterTransition(uuid, state, done);
  });
}
