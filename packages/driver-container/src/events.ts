import type { LifecycleEvent, LifecycleEventKind, LifecycleListener, PowerState, Unsubscribe } from '@nova-common/core';
import type { EngineClient } from './client/engine-client.js';
import type { EngineEvent } from './client/types.js';
import { labelKeys, ownerFilter, type Naming } from './mapping/labels.js';

/**
 * The engine's /events stream, filtered server-side to this driver's instance containers
 * (owner and kind labels), mapped to lifecycle events:
 *
 *   start    -> STARTED  RUNNING
 *   unpause  -> RESUMED  RUNNING
 *   pause    -> PAUSED   PAUSED
 *   die      -> STOPPED  SHUTDOWN, or CRASHED CRASHED after an oom event for that container
 *
 * The stream is opened on the first subscription and reopened (from the last event's time)
 * if the engine drops it; events seen twice across a reopen are delivered once.
 */
export function mapEngineEvent(e: EngineEvent, oomSeen: boolean): { kind: LifecycleEventKind; power: PowerState } | undefined {
  switch (e.Action) {
    case 'start':
      return { kind: 'STARTED', power: 'RUNNING' };
    case 'unpause':
      return { kind: 'RESUMED', power: 'RUNNING' };
    case 'pause':
      return { kind: 'PAUSED', power: 'PAUSED' };
    case 'die':
    case 'died': // podman's own name, should its compat layer pass it through
      return oomSeen ? { kind: 'CRASHED', power: 'CRASHED' } : { kind: 'STOPPED', power: 'SHUTDOWN' };
    default:
      return undefined;
  }
}

export class EventStream {
  private readonly listeners = new Set<LifecycleListener>();
  private abort: AbortController | undefined;
  /** Nanoseconds since the epoch of the newest event seen (or of the first subscription). */
  private lastNano = 0;
  private startNano = 0;
  private readonly seen = new Set<string>();
  private readonly oom = new Set<string>();
  private closed = false;

  constructor(
    private readonly client: EngineClient,
    private readonly naming: Naming,
    private readonly node: () => string,
    /** The engine's names for the actions mapped below (podman calls an exit "died"). */
    private readonly actions: () => readonly string[] = () => ['start', 'die', 'pause', 'unpause', 'oom'],
  ) {}

  subscribe(listener: LifecycleListener): Unsubscribe {
    const entry: LifecycleListener = (e) => listener(e);
    this.listeners.add(entry);
    if (this.startNano === 0) {
      // Ask the engine for events since now, so nothing between subscribe and the stream opening is lost.
      this.startNano = Date.now() * 1e6;
      this.lastNano = this.startNano;
    }
    if (!this.abort) this.open();
    return () => {
      this.listeners.delete(entry);
    };
  }

  close(): void {
    this.closed = true;
    this.abort?.abort();
    this.abort = undefined;
    this.listeners.clear();
  }

  private open(): void {
    if (this.closed) return;
    const ac = new AbortController();
    this.abort = ac;
    const sec = Math.floor(this.lastNano / 1e9);
    const since = `${sec}.${String(Math.floor(this.lastNano - sec * 1e9)).padStart(9, '0')}`;
    void this.client
      .events(
        { type: ['container'], label: ownerFilter(this.naming, 'instance'), event: [...this.actions()] },
        since,
        (e) => this.onEvent(e),
        ac.signal,
      )
      .catch(() => undefined)
      .finally(() => {
        if (this.abort === ac && !this.closed) {
          // The engine dropped the stream: reopen shortly.
          this.abort = undefined;
          const t = setTimeout(() => {
            if (!this.abort && !this.closed && this.listeners.size > 0) this.open();
          }, 500);
          t.unref?.();
        }
      });
  }

  private onEvent(e: EngineEvent): void {
    const id = `${e.Actor.ID}/${e.Action}/${e.timeNano}`;
    if (this.seen.has(id) || e.timeNano < this.startNano) return;
    this.seen.add(id);
    if (this.seen.size > 10_000) this.seen.clear();
    this.lastNano = Math.max(this.lastNano, e.timeNano);
    if (e.Action === 'oom') {
      this.oom.add(e.Actor.ID);
      return;
    }
    const mapped = mapEngineEvent(e, this.oom.has(e.Actor.ID));
    if (e.Action === 'start') this.oom.delete(e.Actor.ID);
    if (!mapped) return;
    const keys = labelKeys(this.naming);
    const uuid = e.Actor.Attributes[keys.uuid];
    if (!uuid) return;
    const event: LifecycleEvent = {
      uuid,
      kind: mapped.kind,
      powerState: mapped.power,
      node: e.Actor.Attributes[keys.node] || this.node(),
      timestamp: new Date(Math.floor(e.timeNano / 1e6)).toISOString(),
    };
    for (const l of [...this.listeners]) {
      try {
        l({ ...event });
      } catch {
        // a listener's failure is its own
      }
    }
  }
}
