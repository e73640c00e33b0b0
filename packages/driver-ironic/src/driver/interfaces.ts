/**
 * Interfaces: Ironic's VIF API, as Nova calls it, plus the ownership record, which is what the
 * driver reports (the noop network interface accepts every VIF and records nothing).
 */
import type { Vif } from '@nova-common/core';
import { IronicApiError } from '../client/client.js';
import { hasVif, readOwnerRecord, vifsPatch, vifsWithout } from '../mapping/instance-info.js';
import { withContractErrors, type IronicContext } from './context.js';

export async function attachInterface(ctx: IronicContext, uuid: string, vif: Vif, signal?: AbortSignal): Promise<void> {
  const op = 'attachInterface';
  const { node, state } = await ctx.enter(op, 'attachInterface', uuid, signal, (n) => ({ interfaceAttached: hasVif(readOwnerRecord(n)!, vif.id) }));
  const rec = readOwnerRecord(node)!;
  await withContractErrors({ op, target: uuid, currentState: state }, async () => {
    await ctx.client.vifs.attach(node.uuid, vif.id, { signal });
    try {
      await ctx.client.nodes.patch(node.uuid, vifsPatch(rec, [...rec.vifs, { id: vif.id, address: vif.address.toLowerCase() }]), { signal });
    } catch (e) {
      // Not the caller's signal: the VIF must not stay attached without the record.
      await ctx.client.vifs.detach(node.uuid, vif.id).catch(() => undefined);
      throw e;
    }
  });
}

export async function detachInterface(ctx: IronicContext, uuid: string, vifId: string, signal?: AbortSignal): Promise<void> {
  const op = 'detachInterface';
  const { node, state } = await ctx.enter(op, 'detachInterface', uuid, signal, (n) => ({ interfaceAttached: hasVif(readOwnerRecord(n)!, vifId) }));
  const rec = readOwnerRecord(node)!;
  await withContractErrors({ op, target: uuid, currentState: state }, async () => {
    await detachVifQuietly(ctx, node.uuid, vifId, signal);
    await ctx.client.nodes.patch(node.uuid, vifsPatch(rec, vifsWithout(rec, vifId)), { signal });
  });
}

/** Detach a VIF from a node; one that is not attached (any more) is what we want. */
export async function detachVifQuietly(ctx: IronicContext, nodeUuid: string, vifId: string, signal?: AbortSignal): Promise<void> {
  try {
    await ctx.client.vifs.detach(nodeUuid, vifId, { signal });
  } catch (e) {
    if (e instanceof IronicApiError && (e.kind === 'not-found' || e.kind === 'bad-request')) return;
    throw e;
  }
}
