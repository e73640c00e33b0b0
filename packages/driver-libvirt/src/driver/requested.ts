import type { EventCause, LifecycleEventKind } from '@nova-common/core';

/**
 * How long after a call settles its events still count as its own. libvirtd queues a
 * lifecycle event while it handles the call and flushes it from its event loop; measured on
 * libvirt 9.0 (test driver and QEMU) the event reached this side before the call's reply
 * every time, but nothing orders the two, so an event flushed late still counts for a while.
 */
export const REQUESTED_TAIL_MS = 1_000;

interface Window {
  kinds: ReadonlySet<LifecycleEventKind>;
  /** Ended: only a late event announcing where the call ended still counts. */
  tail: boolean;
}

/**
 * The driver's own transitions in flight, per instance: what tells a `requested` event from an
 * `out-of-band` one. libvirt's events do not say who asked (a destroy by this driver and by an
 * operator's `virsh destroy` look the same), so the driver decides by time and kind:
 * - while a call of this driver on the instance runs, an event of a kind its actions can cause
 *   (requestedKinds) is `requested`;
 * - once the call settled, for at most REQUESTED_TAIL_MS, an event announcing the state it
 *   ended in (arrivalKinds) is still `requested`: it was flushed late. The tail ends early when
 *   the next call on the instance begins, or when any other event of the instance arrives
 *   (libvirtd keeps an instance's events in order: a late event would have come first);
 * - every other event is `out-of-band`. A crash always is.
 * What the driver cannot tell apart: an operator's action of a kind the call can cause, on
 * the same instance, while the call runs (or announcing the same state within the tail),
 * which is labelled `requested`.
 */
export class RequestedTransitions {
  private readonly windows = new Map<string, Set<Window>>();

  constructor(private readonly tailMs = REQUESTED_TAIL_MS) {}

  /**
   * A call on `uuid` whose actions may cause `kinds` begins; the returned function ends it,
   * keeping for the tail those of its kinds that announce where it ended (`arrival`; none when
   * it failed). Tails of earlier calls on the instance end here.
   */
  begin(uuid: string, kinds: readonly LifecycleEventKind[]): (arrival?: readonly LifecycleEventKind[]) => void {
    this.endTails(uuid);
    if (kinds.length === 0) return () => undefined;
    const w: Window = { kinds: new Set(kinds), tail: false };
    let open = this.windows.get(uuid);
    if (!open) this.windows.set(uuid, (open = new Set()));
    open.add(w);
    let ended = false;
    return (arrival = []) => {
      if (ended) return;
      ended = true;
      w.kinds = new Set(arrival.filter((k) => w.kinds.has(k)));
      w.tail = true;
      if (w.kinds.size === 0) this.close(uuid, w);
      else setTimeout(() => this.close(uuid, w), this.tailMs).unref();
    };
  }

  /** The cause of an event of `kind` for `uuid` that arrives now. */
  causeOf(uuid: string, kind: LifecycleEventKind): EventCause {
    const open = this.windows.get(uuid);
    if (open) for (const w of open) if (w.kinds.has(kind)) return 'requested';
    this.endTails(uuid);
    return 'out-of-band';
  }

  /** Whether one of this driver's calls on `uuid` is running or just ended (its events are still expected). */
  isActing(uuid: string): boolean {
    return (this.windows.get(uuid)?.size ?? 0) > 0;
  }

  /** Instances with a window open (for tests). */
  get size(): number {
    return this.windows.size;
  }

  private endTails(uuid: string): void {
    const open = this.windows.get(uuid);
    if (!open) return;
    for (const w of open) if (w.tail) open.delete(w);
    if (open.size === 0) this.windows.delete(uuid);
  }

  private close(uuid: string, w: Window): void {
    const open = this.windows.get(uuid);
    if (!open) return;
    open.delete(w);
    if (open.size === 0) this.windows.delete(uuid);
  }
}
