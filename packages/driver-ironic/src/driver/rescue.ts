/**
 * Rescue and unrescue through Ironic's provision states. Ironic boots its own rescue ramdisk
 * (RescueSpec.image is not used); fake hardware's rescue leaves power alone, so the node is
 * powered on afterwards, as the table's RESCUE (running) state says. Rescue from CRASHED: Ironic
 * rescues again from `rescue failed` / `unrescue failed`; a node whose deploy failed is recovered
 * (deployed again) first, since Ironic rescues only deployed nodes.
 */
import { randomBytes } from 'node:crypto';
import type { RescueSpec } from '@nova-common/core';
import { withContractErrors, type IronicContext } from './context.js';
import { ensurePower } from './power.js';
import { recoverProvisioning, UNRESCUE_FROM } from './recovery.js';

export async function rescue(ctx: IronicContext, uuid: string, spec: RescueSpec, signal?: AbortSignal): Promise<void> {
  const op = 'rescue';
  const { node, noop, state } = await ctx.enter(op, 'rescue', uuid, signal);
  if (noop) return;
  await withContractErrors({ op, target: uuid, currentState: state }, async () => {
    const ps = node.provision_state ?? '';
    let current = state === 'CRASHED' && !UNRESCUE_FROM.has(ps) ? await recoverProvisioning(ctx, op, uuid, node, signal) : node;
    if (current.provision_state !== 'rescue') {
      const password = spec.adminPassword && spec.adminPassword.length > 0 ? spec.adminPassword : randomBytes(12).toString('base64url');
      await ctx.client.states.provision(node.uuid, 'rescue', { rescue_password: password }, { signal });
      // Ironic leaves a failed state before it answers: `rescue failed` seen now is a new failure.
      current = await ctx.waitFor(node.uuid, 'rescue', ctx.config.actionTimeoutMs, signal, (n) => {
        if (n.provision_state === 'rescue' && !n.target_provision_state) return 'done';
        if (n.provision_state === 'rescue failed' || n.provision_state === 'error') return { fail: n.last_error ?? `rescue ended in ${n.provision_state}` };
        return 'continue';
      });
    }
    const done = await ensurePower(ctx, current, 'power on', signal);
    ctx.events.afterTransition(uuid, state, done);
  });
}

export async function unrescue(ctx: IronicContext, uuid: string, signal?: AbortSignal): Promise<void> {
  const op = 'unrescue';
  const { node, noop, state } = await ctx.enter(op, 'unrescue', uuid, signal);
  if (noop) return;
  await withContractErrors({ op, target: uuid, currentState: state }, async () => {
    await ctx.client.states.provision(node.uuid, 'unrescue', {}, { signal });
    const active = await ctx.waitFor(node.uuid, 'unrescue', ctx.config.actionTimeoutMs, signal, (n) => {
      if (n.provision_state === 'active' && !n.target_provision_state) return 'done';
      if (n.provision_state === 'unrescue failed' || n.provision_state === 'error') return { fail: n.last_error ?? `unrescue ended in ${n.provision_state}` };
      return 'continue';
    });
    const done = await ensurePower(ctx, active, 'power on', signal);
    ctx.events.afterTransition(uuid, state, done);
  });
}
