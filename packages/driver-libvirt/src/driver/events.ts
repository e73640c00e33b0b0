import type { LifecycleEvent } from '@nova-common/core';
import { DomainEvent, type DomainRef, type LifecycleMessage } from '../client/protocol/remote-types.js';
import { mapLifecycleEvent } from '../mapping/events.js';
import type { DriverContext } from './context.js';
import { readRecord } from './records.js';

/** Whether the domain is this driver's: a spawn in flight, the owned index, else its metadata. */
async function isOurs(ctx: DriverContext, dom: DomainRef, uuid: string): Promise<boolean> {
  if (ctx.inFlight.has(uuid)) return true;
  const known = ctx.owned.lookup(uuid);
  if (known !== undefined) return known !== null;
  const r = await readRecord(ctx, dom, uuid).catch(() => undefined);
  return !!r;
}

/**
 * A lifecycle message from libvirtd (every domain's): the contract's event when it maps to
 * one and the domain is this driver's. Handled one after another, so events keep their
 * order even when ownership has to be read first. An UNDEFINED message also tells the owned
 * index that the definition is gone. The cause is decided when the message arrives: whether
 * one of this driver's calls on the instance was running then and could cause it
 * (RequestedTransitions); everything else (the guest, a crash, an operator) is out-of-band.
 */
export function onLifecycle(ctx: DriverContext, m: LifecycleMessage): void {
  const uuid = ctx.instanceUuidOf(m.dom);
  if (uuid === undefined) return;
  if (m.event === DomainEvent.UNDEFINED) ctx.owned.forget(uuid);
  const mapped = mapLifecycleEvent(m.event, m.detail);
  if (!mapped || ctx.listeners.size === 0) return;
  const timestamp = new Date().toISOString();
  const cause = ctx.requested.causeOf(uuid, mapped.kind);
  ctx.eventChain = ctx.eventChain.then(async () => {
    if (!(await isOurs(ctx, m.dom, uuid))) return;
    const event: LifecycleEvent = { uuid, kind: mapped.kind, powerState: mapped.powerState, node: ctx.nodeName, timestamp, cause };
    ctx.listeners.emit(event);
  });
}
