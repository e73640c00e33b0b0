import { create } from '@bufbuild/protobuf';
import { status, type ServerWritableStream, type StatusObject } from '@grpc/grpc-js';
import { DriverError } from '@nova-common/core';
import { isMalformed } from '../grpc/service-definition.js';
import * as pb from '../wire.js';
import { callerOf, type ListenerPolicy, type ServiceContext } from './context.js';
import type { SequencedWireEvent } from './event-log.js';
import { contractStatus, permissionDenied } from './status.js';

/** The open WatchEvents streams, so a shutdown can end them (UNAVAILABLE: the watcher resumes elsewhere or later). */
export class Watchers {
  private readonly open = new Set<(code: status, message: string) => void>();

  get size(): number {
    return this.open.size;
  }

  add(close: (code: status, message: string) => void): () => void {
    this.open.add(close);
    return () => this.open.delete(close);
  }

  closeAll(message: string): void {
    for (const close of [...this.open]) close(status.UNAVAILABLE, message);
  }
}

function eventMessage(e: SequencedWireEvent): pb.WatchEventsResponse {
  return create(pb.WatchEventsResponseSchema, { kind: { case: 'event', value: { sequence: BigInt(e.sequence), event: e.event } } });
}

/**
 * WatchEvents: the first message says where the stream starts and whether events were lost;
 * then every event after that point, in order. The watcher reads from the event log at its own
 * pace (back-pressure: nothing is written while its stream is full); one that falls further
 * behind than the log keeps is ended with ABORTED and resumes, learning of the loss.
 */
export function watchHandler(ctx: ServiceContext, policy: ListenerPolicy, watchers: Watchers) {
  return (call: ServerWritableStream<unknown, pb.WatchEventsResponse>): void => {
    const caller = callerOf(call, policy);
    const fail = (error: Partial<StatusObject>) => {
      call.emit('error', error);
    };
    if (!caller.may('watchEvents')) {
      ctx.metrics.refused('watchEvents', 'PERMISSION_DENIED');
      ctx.log.warn({ op: 'watchEvents', caller: caller.name, roles: [...caller.roles] }, 'refused: the caller’s role does not allow this operation');
      fail(permissionDenied(`role ${[...caller.roles].join('+') || '(none)'} may not call WatchEvents`));
      return;
    }
    const request = call.request;
    const log = ctx.events;
    if (isMalformed(request)) {
      fail(contractStatus(new DriverError('INVALID_INPUT', { op: 'watchEvents', issues: [{ path: [], message: `the request does not parse: ${request.malformed.message}` }] }), log));
      return;
    }
    if (log === undefined) {
      fail(contractStatus(new DriverError('UNSUPPORTED', { op: 'watchEvents', capability: 'event.lifecycle' }), undefined));
      return;
    }
    const req = request as pb.WatchEventsRequest;
    let cursor = log.lastSequence;
    let lost = false;
    if (req.afterSequence !== undefined) {
      const after = Number(req.afterSequence);
      if (req.streamId !== log.streamId) {
        cursor = log.firstSequence - 1;
        lost = true;
      } else if (after > log.lastSequence) {
        fail(contractStatus(new DriverError('INVALID_INPUT', { op: 'watchEvents', issues: [{ path: ['afterSequence'], message: `is past the stream's last sequence ${log.lastSequence}` }] }), log));
        return;
      } else if (after < log.firstSequence - 1) {
        cursor = log.firstSequence - 1;
        lost = true;
      } else {
        cursor = after;
      }
    }
    let closed = false;
    let waitingForDrain = false;
    const finish = () => {
      if (closed) return;
      closed = true;
      stopListening();
      forget();
      ctx.metrics.watchers.dec();
    };
    const close = (code: status, message: string) => {
      if (closed) return;
      finish();
      fail({ code, details: message });
    };
    const pump = () => {
      while (!closed && !waitingForDrain && cursor < log.lastSequence) {
        const next = log.get(cursor + 1);
        if (next === undefined) {
          close(status.ABORTED, `the watcher fell more than ${log.capacity} events behind; resume to learn what was lost`);
          return;
        }
        cursor = next.sequence;
        if (!call.write(eventMessage(next))) {
          waitingForDrain = true;
          call.once('drain', () => {
            waitingForDrain = false;
            pump();
          });
        }
      }
    };
    const stopListening = log.onAppend(pump);
    const forget = watchers.add(close);
    ctx.metrics.watchers.inc();
    call.once('cancelled', finish);
    call.once('close', finish);
    call.write(create(pb.WatchEventsResponseSchema, { kind: { case: 'started', value: { streamId: log.streamId, sequence: BigInt(cursor), eventsLost: lost } } }));
    pump();
  };
}
