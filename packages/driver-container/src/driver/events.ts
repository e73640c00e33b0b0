import { ListenerSet, abortableSleep, type LifecycleEvent, type LifecycleListener, type Unsubscribe } from '@nova-common/core';
import type { EngineEvent } from '../client/types.js';
import { mapEngineEvent, sinceOf } from '../mapping/events.js';
import { ownerFilter } from '../mapping/labels.js';
import type { EngineContext } from './context.js';

/** How long to wait before reopening a stream the engine dropped. */
const REOPEN_DELAY_MS = 500;
/** Event ids remembered to deliver each event once across a reopen. */
const SEEN_LIMIT = 10_000;

/**
 * The engine's /events stream, filtered server-side to this driver's instance containers
 * (owner and kind labels) and to the actions the engine kind names (mapping/events.ts maps them).
 * The stream is opened on the first subscription and reopened, from the last event's time, when
 * the engine drops it; events seen twice across a reopen are delivered once.
 *
 * Every event carries its cause: `requested` when it falls inside a call of this driver on that
 * instance, `out-of-band` otherwise (driver/activity.ts says how that is decided and where it cannot
 * be). Transitions the driver makes without an engine event (acknowledging a crash) come from the
 * context's local events, `requested`.
 */
export class EventStream {
  private readonly listeners = new ListenerSet<LifecycleEvent>();
  /** Aborted by close(): ends the open stream and any wait before a reopen. */
  private readonly lifetime = new AbortController();
  private running = false;
  /** Nanoseconds since the epoch of the newest event seen (or of the first subscription). */
  private lastNano = 0;
  private startNano = 0;
  private readonly seen = new Set<string>();
  private readonly oom = new Set<string>();

  private readonly unrelay: () => void;

  constructor(private readonly ctx: EngineContext) {
    this.unrelay = ctx.localEvents.add((e) => this.listeners.emit(e));
  }

  subscribe(listener: LifecycleListener): Unsubscribe {
    const unsubscribe = this.listeners.add(listener);
    if (this.startNano === 0) {
      // Ask the engine for events since now, so nothing between subscribe and the stream opening is lost.
      this.startNano = Date.now() * 1e6;
      this.lastNano = this.startNano;
    }
    if (!this.running) void this.run();
    return unsubscribe;
  }

  close(): void {
    this.lifetime.abort();
    this.unrelay();
    this.listeners.clear();
  }

  /** Keep a stream open while anyone listens: reopen it shortly after the engine drops it. */
  private async run(): Promise<void> {
    this.running = true;
    const signal = this.lifetime.signal;
    try {
      while (!signal.aborted) {
        const filters = { type: ['container'], label: ownerFilter(this.ctx.naming, 'instance'), event: [...this.ctx.differences.eventFilter] };
        await this.ctx.client.events(filters, sinceOf(this.lastNano), (e) => this.onEvent(e), signal).catch(() => undefined);
        await abortableSleep(REOPEN_DELAY_MS, signal);
        if (this.listeners.size === 0) break;
      }
    } catch {
      // closed while waiting to reopen
    } finally {
      this.running = false;
    }
  }

  private onEvent(e: EngineEvent): void {
    const id = `${e.Actor.ID}/${e.Action}/${e.timeNano}`;
    if (this.seen.has(id) || e.timeNano < this.startNano) return;
    this.seen.add(id);
    if (this.seen.size > SEEN_LIMIT) this.seen.clear();
    this.lastNano = Math.max(this.lastNano, e.timeNano);
    if (e.Action === 'oom') {
      this.oom.add(e.Actor.ID);
      return;
    }
    // Filtered by owner and kind on the engine already; checked again here: a podman run delivered a STOPPED of
    // another owner's container (the migration tests' uuids) to this owner's stream (P-EVENTS, podman conformance).
    const attrs = e.Actor.Attributes;
    if (attrs[this.ctx.keys.owner] !== this.ctx.config.ownerId || attrs[this.ctx.keys.kind] !== 'instance') return;
    const uuid = attrs[this.ctx.keys.uuid];
    if (!uuid) return;
    const timeMs = Math.floor(e.timeNano / 1e6);
    const exit = e.Action === 'die' || e.Action === 'died';
    const cause = exit ? this.ctx.activity.causeOfExit(uuid, e.Actor.ID, timeMs) : this.ctx.activity.causeAt(uuid, timeMs);
    const mapped = mapEngineEvent(e, { oomSeen: this.oom.has(e.Actor.ID), requested: cause === 'requested' });
    if (e.Action === 'start') {
      this.oom.delete(e.Actor.ID);
      this.ctx.activity.started(e.Actor.ID, timeMs);
    }
    if (!mapped) return;
    this.listeners.emit({
      uuid,
      kind: mapped.kind,
      powerState: mapped.power,
      node: e.Actor.Attributes[this.ctx.keys.node] || this.ctx.host.node,
      timestamp: new Date(timeMs).toISOString(),
      cause,
    });
  }
}
