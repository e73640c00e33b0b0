import { randomUUID } from 'node:crypto';
import type { LifecycleEvent } from '@nova-common/core';
import { lifecycleEventToProto } from '../mapping/lifecycle-event.js';
import type * as pb from '../wire.js';

/** One event as the log holds it: its sequence number and its wire form, mapped once. */
export interface SequencedWireEvent {
  readonly sequence: number;
  readonly event: pb.LifecycleEvent;
}

/**
 * The agent's event stream: every lifecycle event the driver emits, numbered 1, 2, 3... in a
 * stream named by a fresh id at each start. The last `capacity` events are kept, so a watcher
 * that lost its connection resumes where it was; one that asks for events no longer kept (or
 * from another stream) is told that events were lost.
 */
export class EventLog {
  readonly streamId = randomUUID();
  private readonly ring: (SequencedWireEvent | undefined)[];
  private last = 0;
  private readonly listeners = new Set<() => void>();

  constructor(readonly capacity: number) {
    this.ring = new Array<SequencedWireEvent | undefined>(capacity);
  }

  /** The sequence of the newest event (0 before the first). */
  get lastSequence(): number {
    return this.last;
  }

  /** The sequence of the oldest event kept (lastSequence + 1 when none is). */
  get firstSequence(): number {
    return Math.max(1, this.last - this.capacity + 1);
  }

  append(event: LifecycleEvent): number {
    const sequence = ++this.last;
    this.ring[sequence % this.capacity] = { sequence, event: lifecycleEventToProto(event) };
    for (const listener of this.listeners) listener();
    return sequence;
  }

  /** The event with this sequence, if it is still kept. */
  get(sequence: number): SequencedWireEvent | undefined {
    if (sequence < this.firstSequence || sequence > this.last) return undefined;
    return this.ring[sequence % this.capacity];
  }

  /** Called after each append; returns the unsubscribe. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** `<stream id>:<last sequence>`: what unary answers carry in the event-position trailer. */
  position(): string {
    return `${this.streamId}:${this.last}`;
  }
}

/** The trailer (and header) key of the event position. */
export const EVENT_POSITION_KEY = 'nova-common-event-position';
