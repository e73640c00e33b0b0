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

  constructor(private readonly ctx: EngineContext) {}

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
    const mapped = mapEngineEvent(e, this.oom.has(e.Actor.ID));
    if (e.Action === 'start') this.oom.delete(e.Actor.ID);
    if (!mapped) return;
    const uuid = e.Actor.Attributes[this.ctx.keys.uuid];
    if (!uuid) return;
    this.listeners.emit({
      uuid,
      kind: mapped.kind,
      powerState: mapped.power,
      node: e.Actor.Attributes[this.ctx.keys.node] || this.ctx.host.node,
      timestamp: new Date(Math.floor(e.timeNano / 1e6)).toISOString(),
    });
  }
}
