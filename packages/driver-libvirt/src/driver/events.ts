import type { LifecycleEvent, LifecycleEventKind, PowerState } from '@nova-common/core';
import { DomainEvent, DomainState, VirErr, type DomainRef, type LifecycleMessage } from '../client/protocol/remote-types.js';
import { ConnectionLostError } from '../client/errors.js';
import { isLibvirtCode } from '../mapping/errors.js';
import { mapLifecycleEvent } from '../mapping/events.js';
import { powerStateOf } from '../mapping/state.js';
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
 * The state each event announces is remembered (ctx.announced) for recoverMissedEvents.
 */
export function onLifecycle(ctx: DriverContext, m: LifecycleMessage): void {
  const uuid = ctx.instanceUuidOf(m.dom);
  if (uuid === undefined) return;
  if (m.event === DomainEvent.UNDEFINED) {
    ctx.owned.forget(uuid);
    ctx.eventChain = ctx.eventChain.then(() => void ctx.announced.delete(uuid));
  }
  const mapped = mapLifecycleEvent(m.event, m.detail);
  if (!mapped) return;
  const timestamp = new Date().toISOString();
  const cause = ctx.requested.causeOf(uuid, mapped.kind);
  ctx.eventChain = ctx.eventChain.then(async () => {
    if (!(await isOurs(ctx, m.dom, uuid))) return;
    ctx.announced.set(uuid, mapped.powerState);
    if (ctx.listeners.size === 0) return;
    ctx.listeners.emit({ uuid, kind: mapped.kind, powerState: mapped.powerState, node: ctx.nodeName, timestamp, cause });
  });
}

/** The event kind that announces arrival in a power state (NOSTATE has none). */
function kindOf(state: PowerState): LifecycleEventKind | undefined {
  switch (state) {
    case 'RUNNING':
      return 'STARTED';
    case 'PAUSED':
      return 'PAUSED';
    case 'SHUTDOWN':
      return 'STOPPED';
    case 'SUSPENDED':
      return 'SUSPENDED';
    case 'CRASHED':
      return 'CRASHED';
    default:
      return undefined;
  }
}

/**
 * After a reconnect: the transitions that happened while this driver could not hear libvirtd
 * (libvirtd restarted; the host restarted and its guests are gone) sent no event this driver
 * saw. Once the event callback is registered again, each instance whose state was announced
 * before is read, and one whose state differs gets an out-of-band event for its state now.
 * A transition that happens while this runs may then be announced twice (events are at least
 * once).
 *
 * It reads more than once (RECOVERY_PASSES_MS): a libvirtd that has just started accepts calls
 * while its threads are still reconnecting to the QEMU processes of its running domains, and
 * until such a thread finds its QEMU gone the domain still reads running; libvirtd then shuts
 * it off without sending any lifecycle event. A later pass sees it.
 */
export async function recoverMissedEvents(ctx: DriverContext): Promise<void> {
  const generation = (recoveries.get(ctx) ?? 0) + 1;
  recoveries.set(ctx, generation);
  const started = Date.now();
  for (const [i, at] of RECOVERY_PASSES_MS.entries()) {
    const wait = started + at - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait).unref());
    if (recoveries.get(ctx) !== generation) return; // a newer reconnect runs its own passes
    if (i === 0) await ctx.client.connect(); // the callback first: what changes after a read below arrives as an event
    else if (!ctx.client.connection.isOpen) return; // closed (cleanupHost) or lost: the next reconnect starts again
    if (ctx.announced.size > 0) await recoveryPass(ctx);
  }
}

/** When the passes of recoverMissedEvents run, in ms after the reconnect. */
const RECOVERY_PASSES_MS = [0, 1_000, 3_000, 7_000, 15_000, 30_000];
/** The latest reconnect's number per driver: older passes stop when a newer reconnect begins. */
const recoveries = new WeakMap<DriverContext, number>();

async function recoveryPass(ctx: DriverContext): Promise<void> {
  await Promise.all(
    [...ctx.announced].map(async ([uuid, before]) => {
      // A change this driver is making arrives as its own (requested) event: not judged here.
      if (ctx.requested.isActing(uuid)) return;
      const now = await stateAfterRestart(ctx, uuid);
      if (now === undefined) return;
      const kind = kindOf(now);
      if (now === before || kind === undefined) return;
      const timestamp = new Date().toISOString();
      ctx.eventChain = ctx.eventChain.then(() => {
        // A live event (or an earlier pass) announced it meanwhile, or a call of this driver began.
        if (ctx.announced.get(uuid) !== before || ctx.requested.isActing(uuid)) return;
        ctx.announced.set(uuid, now);
        ctx.listeners.emit({ uuid, kind, powerState: now, node: ctx.nodeName, timestamp, cause: 'out-of-band' });
      });
    }),
  );
}

/** How long a read after a reconnect is retried while libvirtd is still busy with its own start. */
const RECOVERY_READ_MS = 30_000;

/**
 * The instance's state now, read again after a reconnect. A freshly started libvirtd is still
 * reconnecting to its QEMU processes (holding their jobs), so a read may fail for a while:
 * it is retried (not dropped, or the change it would announce is lost with no later call to
 * find it). A domain that is gone is forgotten; a connection lost again answers undefined,
 * since the next reconnect runs this again.
 */
async function stateAfterRestart(ctx: DriverContext, uuid: string): Promise<PowerState | undefined> {
  const deadline = Date.now() + RECOVERY_READ_MS;
  for (;;) {
    try {
      const ref = ctx.ref(uuid);
      const st = await ctx.client.getState(ref);
      return powerStateOf(st.state, st.state === DomainState.SHUTOFF && (await ctx.client.hasManagedSaveImage(ref)), st.reason);
    } catch (err) {
      if (isLibvirtCode(err, VirErr.NO_DOMAIN)) {
        ctx.announced.delete(uuid);
        return undefined;
      }
      if (err instanceof ConnectionLostError || Date.now() >= deadline) return undefined;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
