import type { EventCause } from '@nova-common/core';

/**
 * Events stamped this long after a call ended still count as that call's. Engines stamp the events of a
 * start or a pause before they answer; dockerd may answer a stop a moment before it stamps the `die`
 * (another goroutine). This absorbs that and the rounding of the two clocks' readings (engine and driver
 * read one host clock).
 */
const END_MARGIN_MS = 20;
/**
 * The end of a run the driver asked for may be stamped this long after the asking call ended: podman
 * writes `died` from the cleanup process conmon starts when the container exits, which can come after
 * the API answered the kill and the wait. Safe to be generous: an expected end is consumed by the first
 * end that comes, and dropped when the container starts again.
 */
const EXIT_MARGIN_MS = 5_000;
/** Ended calls are forgotten after this long: events arrive well within eventDeliveryMs. */
const KEEP_MS = 60_000;
/** Most containers with an exit the driver asked for and has not seen yet. */
const MAX_EXITS = 10_000;

interface Span {
  readonly startMs: number;
  endMs: number | undefined;
}

/**
 * When the driver itself acts on each instance, so the event stream can tell a transition a call
 * asked for (`requested`) from one nobody asked for (`out-of-band`). How it decides:
 *
 * - any transition (start, pause, unpause, the end of a run): `requested` only when the engine stamped it
 *   inside a call of this driver on that instance (the events carry the uuid label and the engine's
 *   time), otherwise `out-of-band`;
 * - the end of a run (`die`) besides: only when that call asked this container to end (the driver says so
 *   before every stop, kill and forced removal it sends: `expectExit`), so a crash or an operator's kill
 *   during a call that does not stop the instance (a snapshot, a pause) is `out-of-band`; and it may be
 *   stamped up to EXIT_MARGIN_MS after the call ended.
 *
 * What the driver cannot tell: an operator starting, pausing or unpausing an instance while a call of
 * the driver on it runs is reported as `requested`; another driver process with the same owner id
 * acting on it is reported as `out-of-band`.
 */
export class RequestedActivity {
  private readonly spans = new Map<string, Span[]>();
  /** Containers the driver asked to end, since when. */
  private readonly exits = new Map<string, number>();
  private ended = 0;

  /** A call on `uuid` starts now; the returned function ends it. */
  begin(uuid: string, now = Date.now()): () => void {
    const span: Span = { startMs: now, endMs: undefined };
    const list = this.spans.get(uuid) ?? [];
    list.push(span);
    this.spans.set(uuid, list);
    return () => {
      span.endMs = Date.now();
      this.prune(uuid, span.endMs);
      // Now and then, the instances no call touched for a while too.
      if (++this.ended % 256 === 0) for (const other of [...this.spans.keys()]) this.prune(other, span.endMs);
    };
  }

  /** The driver is about to end the run of this container (stop, kill, forced removal) in a call on its instance. */
  expectExit(containerId: string, now = Date.now()): void {
    this.exits.delete(containerId);
    this.exits.set(containerId, now);
    if (this.exits.size > MAX_EXITS) this.exits.delete(this.exits.keys().next().value!);
  }

  /** The cause of the end of a run of container `containerId` (instance `uuid`) the engine stamped at `timeMs`. */
  causeOfExit(uuid: string, containerId: string, timeMs: number): EventCause {
    const since = this.exits.get(containerId);
    if (since === undefined || timeMs < since || !this.inCall(uuid, timeMs, EXIT_MARGIN_MS)) return 'out-of-band';
    this.exits.delete(containerId);
    return 'requested';
  }

  /**
   * A new run of the container started at `timeMs` (the engine's stamp): an end expected before it can no
   * longer come. (Events may be delivered late, podman's especially: an end expected after the start stays.)
   */
  started(containerId: string, timeMs: number): void {
    const since = this.exits.get(containerId);
    if (since !== undefined && since <= timeMs) this.exits.delete(containerId);
  }

  /** The cause of a transition of `uuid` the engine stamped at `timeMs` (for the end of a run, see causeOfExit). */
  causeAt(uuid: string, timeMs: number): EventCause {
    return this.inCall(uuid, timeMs, END_MARGIN_MS) ? 'requested' : 'out-of-band';
  }

  /** Whether `timeMs` falls inside a call on `uuid`, or at most `marginMs` after one ended. */
  private inCall(uuid: string, timeMs: number, marginMs: number): boolean {
    return (this.spans.get(uuid) ?? []).some((s) => timeMs >= s.startMs && (s.endMs === undefined || timeMs <= s.endMs + marginMs));
  }

  private prune(uuid: string, now: number): void {
    const list = this.spans.get(uuid) ?? [];
    const live = list.filter((s) => s.endMs === undefined || now - s.endMs < KEEP_MS);
    if (live.length === 0) this.spans.delete(uuid);
    else if (live.length !== list.length) this.spans.set(uuid, live);
  }
}
