import { create } from '@bufbuild/protobuf';
import { Metadata, status, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { backoffDelay, ListenerSet, type LifecycleEvent, type LifecycleListener, type RetryPolicy } from '@nova-common/core';
import { methodDefinition } from '../grpc/service-definition.js';
import { lifecycleEventFromProto } from '../mapping/lifecycle-event.js';
import * as pb from '../wire.js';

/** Told when the agent could not deliver some events (it restarted, or this client fell too far behind). */
export interface EventsLost {
  readonly streamId: string;
  /** The last sequence this client had seen, when it had seen any of that stream. */
  readonly afterSequence: number | undefined;
  readonly resumedAt: number;
}

interface Position {
  streamId: string;
  sequence: number;
}

function parsePosition(text: string): Position | undefined {
  const i = text.lastIndexOf(':');
  const sequence = Number(text.slice(i + 1));
  return i > 0 && Number.isSafeInteger(sequence) ? { streamId: text.slice(0, i), sequence } : undefined;
}

const RECONNECT: RetryPolicy = { attempts: Number.POSITIVE_INFINITY, baseDelayMs: 100, maxDelayMs: 5000 };
const watchMethod = methodDefinition(pb.ComputeService.method.watchEvents);

/**
 * subscribeEvents over WatchEvents. One stream while anyone listens; when it breaks it is
 * reopened (with backoff) after the last sequence seen, so nothing is missed unless the agent
 * lost it. It starts after the latest event position the driver learnt from the agent (initHost
 * records one), so events of calls made after that point are all delivered, and `reached` lets a
 * call wait until the events it caused have arrived, as an in-process driver delivers them.
 */
export class RemoteEventStream {
  private readonly listeners = new ListenerSet<LifecycleEvent>();
  private call: ClientReadableStream<pb.WatchEventsResponse> | undefined;
  private streamId: string | undefined;
  private delivered = 0;
  private known: Position | undefined;
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly waiters = new Set<{ position: Position; resolve: () => void }>();

  constructor(
    private readonly client: Client,
    private readonly onLost: ((info: EventsLost) => void) | undefined,
    private readonly onFailure: (error: ServiceError) => void,
  ) {}

  get active(): boolean {
    return this.listeners.size > 0;
  }

  add(listener: LifecycleListener): () => void {
    const remove = this.listeners.add(listener);
    if (this.listeners.size === 1) this.open();
    return () => {
      remove();
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Remember the newest position the agent reported (`<stream id>:<sequence>`). */
  note(text: string | undefined): Position | undefined {
    const position = text === undefined ? undefined : parsePosition(text);
    if (position !== undefined && (this.known === undefined || this.known.streamId !== position.streamId || position.sequence > this.known.sequence)) this.known = position;
    return position;
  }

  /** Resolve once every event up to `position` has been delivered (or after `timeoutMs`). */
  reached(text: string | undefined, timeoutMs: number): Promise<void> {
    const position = this.note(text);
    if (position === undefined || !this.active || this.isReached(position) || timeoutMs === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = {
        position,
        resolve: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.resolve, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private isReached(p: Position): boolean {
    return this.streamId === p.streamId && this.delivered >= p.sequence;
  }

  private open(): void {
    if (this.closed || this.call !== undefined) return;
    const from = this.streamId !== undefined ? { streamId: this.streamId, sequence: this.delivered } : this.known;
    const request = create(pb.WatchEventsRequestSchema, from === undefined ? {} : { streamId: from.streamId, afterSequence: BigInt(from.sequence) });
    const call = this.client.makeServerStreamRequest(watchMethod.path, watchMethod.requestSerialize, watchMethod.responseDeserialize as (b: Buffer) => pb.WatchEventsResponse, request, new Metadata(), {});
    this.call = call;
    call.on('data', (message: pb.WatchEventsResponse) => this.receive(message, from));
    call.on('error', (error: ServiceError) => this.broken(call, error));
    call.on('end', () => this.broken(call, undefined));
  }

  private receive(message: pb.WatchEventsResponse, from: Position | undefined): void {
    this.attempts = 0;
    const kind = message.kind;
    if (kind.case === 'started') {
      const started = kind.value;
      this.streamId = started.streamId;
      this.delivered = Number(started.sequence);
      if (started.eventsLost) {
        this.onLost?.({ streamId: started.streamId, afterSequence: from?.streamId === started.streamId ? from.sequence : undefined, resumedAt: this.delivered });
      }
    } else if (kind.case === 'event') {
      const sequence = Number(kind.value.sequence);
      if (sequence <= this.delivered || kind.value.event === undefined) return;
      this.delivered = sequence;
      this.listeners.emit(lifecycleEventFromProto(kind.value.event));
    }
    for (const w of [...this.waiters]) if (this.isReached(w.position)) w.resolve();
  }

  private broken(call: ClientReadableStream<pb.WatchEventsResponse>, error: ServiceError | undefined): void {
    if (this.call !== call) return;
    this.call = undefined;
    if (this.closed || !this.active) return;
    if (error !== undefined && (error.code === status.PERMISSION_DENIED || error.code === status.UNIMPLEMENTED || error.code === status.INVALID_ARGUMENT)) {
      this.onFailure(error);
      return;
    }
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.open();
    }, backoffDelay(RECONNECT, this.attempts++));
  }

  /** Nobody listens: close the stream. A later subscription starts from the newest known position. */
  private stop(): void {
    if (this.streamId !== undefined) {
      this.note(`${this.streamId}:${this.delivered}`);
      this.streamId = undefined;
    }
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const call = this.call;
    this.call = undefined;
    call?.cancel();
    for (const w of [...this.waiters]) w.resolve();
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
    this.stop();
  }
}
