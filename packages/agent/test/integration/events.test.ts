import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { Client, credentials, Metadata, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { guard, type LifecycleEvent } from '@nova-common/core';
import { createReferenceDriver } from '@nova-common/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventsLost } from '../../src/client/event-stream.js';
import { methodDefinition } from '../../src/grpc/service-definition.js';
import { startAgent, type Agent } from '../../src/server/agent.js';
import { parseListenAddress } from '../../src/server/listen-address.js';
import * as pb from '../../src/wire.js';
import { serveReference, tempDir } from '../helpers/serve.js';
import { spec } from '../helpers/specs.js';
import { createRemoteDriver } from '../../src/client/remote-driver.js';

const watch = methodDefinition(pb.ComputeService.method.watchEvents);

/** A raw WatchEvents stream collecting what it receives and how it ends. */
function watchEvents(target: string, request: { afterSequence?: bigint; streamId?: string } = {}) {
  const client = new Client(target, credentials.createInsecure());
  const messages: pb.WatchEventsResponse[] = [];
  let ended: ServiceError | undefined;
  const call = client.makeServerStreamRequest(watch.path, watch.requestSerialize, watch.responseDeserialize as (b: Buffer) => pb.WatchEventsResponse, create(pb.WatchEventsRequestSchema, request), new Metadata(), {}) as ClientReadableStream<pb.WatchEventsResponse>;
  call.on('data', (m: pb.WatchEventsResponse) => messages.push(m));
  call.on('error', (e: ServiceError) => (ended = e));
  return {
    call,
    messages,
    get ended() {
      return ended;
    },
    started: () => messages.find((m) => m.kind.case === 'started')?.kind.value as pb.WatchStarted | undefined,
    events: () => messages.flatMap((m) => (m.kind.case === 'event' ? [m.kind.value] : [])),
    close: () => {
      call.cancel();
      client.close();
    },
  };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('WatchEvents: sequence numbers, resume, loss', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('numbers events 1, 2, 3... and a resumed watcher gets exactly what it missed', async () => {
    const served = await serveReference();
    cleanups.push(() => served.close());
    const target = `unix://${served.socket('reader')}`;
    const first = watchEvents(target);
    cleanups.push(first.close);
    await until(() => first.started() !== undefined);
    expect(first.started()).toMatchObject({ sequence: 0n, eventsLost: false });
    const s = spec();
    await served.reference.spawn((await import('@nova-common/core')).InstanceSpecSchema.parse(s));
    await served.reference.pause(s.uuid);
    await until(() => first.events().length === 2);
    expect(first.events().map((e) => [e.sequence, e.event?.kind])).toStrictEqual([
      [1n, pb.LifecycleEventKind.STARTED],
      [2n, pb.LifecycleEventKind.PAUSED],
    ]);
    first.close();
    await served.reference.unpause(s.uuid);
    await served.reference.powerOff(s.uuid);
    const streamId = first.started()!.streamId;
    const resumed = watchEvents(target, { streamId, afterSequence: 2n });
    cleanups.push(resumed.close);
    await until(() => resumed.events().length === 2);
    expect(resumed.started()).toMatchObject({ streamId, sequence: 2n, eventsLost: false });
    expect(resumed.events().map((e) => [e.sequence, e.event?.kind])).toStrictEqual([
      [3n, pb.LifecycleEventKind.RESUMED],
      [4n, pb.LifecycleEventKind.STOPPED],
    ]);
  });

  it('each event carries its cause and its number among its instance’s events (since 1.1), on the wire and through the remote driver', async () => {
    const served = await serveReference();
    cleanups.push(() => served.close());
    const target = `unix://${served.socket('reader')}`;
    const watcher = watchEvents(target);
    cleanups.push(watcher.close);
    await until(() => watcher.started() !== undefined);
    const remote = await served.connect();
    const seen: LifecycleEvent[] = [];
    remote.subscribeEvents((e) => seen.push(e));
    const [a, b] = [spec(), spec()];
    await remote.spawn(a);
    await remote.spawn(b);
    served.reference.simulateGuestShutdown(a.uuid);
    await remote.powerOn(a.uuid);
    served.reference.simulateCrash(b.uuid);
    await remote.restoreState(b.uuid, 'RUNNING');
    const K = pb.LifecycleEventKind;
    const C = pb.EventCause;
    const expected = [
      [a.uuid, K.STARTED, C.REQUESTED, 1n],
      [b.uuid, K.STARTED, C.REQUESTED, 1n],
      [a.uuid, K.STOPPED, C.OUT_OF_BAND, 2n],
      [a.uuid, K.STARTED, C.REQUESTED, 3n],
      [b.uuid, K.CRASHED, C.OUT_OF_BAND, 2n],
      [b.uuid, K.STARTED, C.REQUESTED, 3n],
    ] as const;
    await until(() => watcher.events().length === expected.length);
    expect(watcher.events().map(({ event: e }) => [e?.uuid, e?.kind, e?.cause, e?.seq])).toStrictEqual(expected);
    expect(seen.map((e) => [e.uuid, e.kind, e.cause, e.seq])).toStrictEqual([
      [a.uuid, 'STARTED', 'requested', 1],
      [b.uuid, 'STARTED', 'requested', 1],
      [a.uuid, 'STOPPED', 'out-of-band', 2],
      [a.uuid, 'STARTED', 'requested', 3],
      [b.uuid, 'CRASHED', 'out-of-band', 2],
      [b.uuid, 'STARTED', 'requested', 3],
    ]);
    // A watcher resuming mid-stream gets the numbers the agent gave, not a count of its own.
    const resumed = watchEvents(target, { streamId: watcher.started()!.streamId, afterSequence: 4n });
    cleanups.push(resumed.close);
    await until(() => resumed.events().length === 2);
    expect(resumed.events().map(({ event: e }) => [e?.uuid, e?.cause, e?.seq])).toStrictEqual([
      [b.uuid, C.OUT_OF_BAND, 2n],
      [b.uuid, C.REQUESTED, 3n],
    ]);
  });

  it('tells a watcher when what it asks for is gone (older than the buffer, or another stream), then goes on', async () => {
    const served = await serveReference({}, { agent: { eventBuffer: 3 } });
    cleanups.push(() => served.close());
    const target = `unix://${served.socket()}`;
    const remote = await served.connect();
    const s = spec();
    await remote.spawn(s);
    for (let i = 0; i < 4; i++) {
      await remote.pause(s.uuid);
      await remote.unpause(s.uuid);
    }
    const streamId = served.agent.streamId!;
    const late = watchEvents(target, { streamId, afterSequence: 1n });
    cleanups.push(late.close);
    await until(() => late.events().length === 3);
    expect(late.started()).toMatchObject({ sequence: 6n, eventsLost: true });
    expect(late.events().map((e) => e.sequence)).toStrictEqual([7n, 8n, 9n]);
    const stranger = watchEvents(target, { streamId: 'another-run', afterSequence: 9n });
    cleanups.push(stranger.close);
    await until(() => stranger.started() !== undefined);
    expect(stranger.started()).toMatchObject({ streamId, eventsLost: true });
    const future = watchEvents(target, { streamId, afterSequence: 99n });
    await until(() => future.ended !== undefined);
    expect(future.ended?.code).toBe(status.INVALID_ARGUMENT);
    future.close();
  });

  it('a watcher that does not read falls behind and is ended with ABORTED; the agent stays well', async () => {
    const served = await serveReference({}, { agent: { eventBuffer: 5 } });
    cleanups.push(() => served.close());
    const slow = watchEvents(`unix://${served.socket()}`);
    cleanups.push(slow.close);
    await until(() => slow.started() !== undefined);
    slow.call.pause();
    const s = spec();
    await served.reference.spawn((await import('@nova-common/core')).InstanceSpecSchema.parse(s));
    for (let i = 0; i < 3000; i++) {
      await served.reference.pause(s.uuid);
      await served.reference.unpause(s.uuid);
    }
    slow.call.resume();
    await until(() => slow.ended !== undefined, 10_000);
    expect(slow.ended?.code).toBe(status.ABORTED);
    expect(slow.events().length).toBeLessThan(6001);
    const fresh = watchEvents(`unix://${served.socket()}`);
    cleanups.push(fresh.close);
    await until(() => fresh.started() !== undefined);
    expect(fresh.started()?.sequence).toBe(6001n);
  });

  it('the remote driver delivers every event of a call before the call resolves, and resumes across an agent restart', async () => {
    const sockets = tempDir();
    cleanups.push(sockets.remove);
    const socket = join(sockets.dir, 'agent.sock');
    const backend = createReferenceDriver();
    let agent: Agent | undefined;
    const start = async () =>
      (agent = await startAgent({ driver: guard(backend), driverName: 'reference', driverVersion: '1', listeners: [{ role: 'compute', address: parseListenAddress(`unix://${socket}`) }] }));
    await start();
    cleanups.push(() => agent?.shutdown(500));
    const lost: EventsLost[] = [];
    const remote = guard(createRemoteDriver({ endpoint: `unix://${socket}`, onEventsLost: (i) => lost.push(i), retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 200 } }));
    cleanups.push(() => remote.cleanupHost());
    await remote.initHost();
    const seen: LifecycleEvent[] = [];
    remote.subscribeEvents((e) => seen.push(e));
    const s = spec();
    await remote.spawn(s);
    expect(seen.map((e) => e.kind)).toStrictEqual(['STARTED']);
    await remote.pause(s.uuid);
    expect(seen.map((e) => e.kind)).toStrictEqual(['STARTED', 'PAUSED']);

    await agent!.shutdown(500);
    await backend.unpause(s.uuid); // while no agent runs: this event is lost with the old stream
    await start();
    await remote.powerOff(s.uuid);
    await until(() => seen.length === 3);
    expect(seen.map((e) => e.kind)).toStrictEqual(['STARTED', 'PAUSED', 'STOPPED']);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ streamId: agent!.streamId, afterSequence: undefined });
  });
});
