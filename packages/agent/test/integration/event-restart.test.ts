import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { Client, credentials, Metadata, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { guard, type LifecycleEvent } from '@nova-common/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventsLost } from '../../src/client/event-stream.js';
import { createRemoteDriver } from '../../src/client/remote-driver.js';
import { methodDefinition } from '../../src/grpc/service-definition.js';
import * as pb from '../../src/wire.js';
import { runAgent, type RunningAgent } from '../helpers/cli.js';
import { tempDir } from '../helpers/serve.js';
import { spec } from '../helpers/specs.js';

const watch = methodDefinition(pb.ComputeService.method.watchEvents);

/** A raw WatchEvents stream: what it received and how it ended. */
function watchEvents(target: string, request: { afterSequence?: bigint; streamId?: string }) {
  const client = new Client(target, credentials.createInsecure());
  const messages: pb.WatchEventsResponse[] = [];
  let ended: ServiceError | undefined;
  const call = client.makeServerStreamRequest(watch.path, watch.requestSerialize, watch.responseDeserialize as (b: Buffer) => pb.WatchEventsResponse, create(pb.WatchEventsRequestSchema, request), new Metadata(), {}) as ClientReadableStream<pb.WatchEventsResponse>;
  call.on('data', (m: pb.WatchEventsResponse) => messages.push(m));
  call.on('error', (e: ServiceError) => (ended = e));
  return {
    get ended() {
      return ended;
    },
    started: () => messages.find((m) => m.kind.case === 'started')?.kind.value as pb.WatchStarted | undefined,
    sequences: () => messages.flatMap((m) => (m.kind.case === 'event' ? [m.kind.value.sequence] : [])),
    close: () => {
      call.cancel();
      client.close();
    },
  };
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Sequences after an agent restart. A stream's sequence numbers only mean something within the
 * stream id they came with, and each start of the agent begins a new stream. A watcher that
 * resumes after a restart names a stream the new agent never had, whatever the sequence (one the
 * new stream has not reached, or one it has, standing for other events): the agent answers with a
 * reset, never a silent continuation: `WatchStarted` carries the new stream id and
 * `events_lost = true`, and the stream starts at the oldest event the new agent kept. Only
 * within one stream is a sequence past its end an error (INVALID_ARGUMENT at afterSequence).
 */
describe('event sequences across an agent restart (SIGKILL)', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function agent(dir: string): Promise<RunningAgent> {
    const running = await runAgent(['--driver', '@nova-common/core/testing', '--listen', `unix://${join(dir, 'agent.sock')}`, '--state-dir', dir, '--log-level', 'warn']);
    cleanups.push(() => (running.child.exitCode === null && running.child.signalCode === null ? running.stop() : undefined));
    return running;
  }

  it('a watcher resuming from a sequence of the killed agent gets a reset (new stream id, events_lost), then every event of the new stream', async () => {
    const dir = tempDir('nova-agent-events-');
    cleanups.push(dir.remove);
    const target = `unix://${join(dir.dir, 'agent.sock')}`;
    let running = await agent(dir.dir);
    const remote = guard(createRemoteDriver({ endpoint: target, retry: { attempts: 0 } }));
    await remote.initHost();
    const s = spec();
    await remote.spawn(s);
    for (let i = 0; i < 5; i++) {
      await remote.pause(s.uuid);
      await remote.unpause(s.uuid);
    }
    const before = watchEvents(target, {});
    await until(() => before.started() !== undefined);
    const oldStream = before.started()!.streamId;
    const lastSeen = before.started()!.sequence;
    expect(lastSeen).toBe(11n);
    before.close();
    await remote.cleanupHost();

    running.child.kill('SIGKILL');
    await running.exited;
    running = await agent(dir.dir);
    const after = guard(createRemoteDriver({ endpoint: target }));
    await after.initHost();
    cleanups.push(() => after.cleanupHost());
    const t = spec();
    await after.spawn(t); // sequence 1 of the new stream: below the watcher's 11, and another event

    // Resuming after 11 of the old stream: the new agent never issued 11, and its 1 is not the old 1.
    const resumed = watchEvents(target, { streamId: oldStream, afterSequence: lastSeen });
    cleanups.push(resumed.close);
    await until(() => resumed.sequences().length === 1);
    const started = resumed.started()!;
    expect(started.streamId).not.toBe(oldStream);
    expect([started.eventsLost, started.sequence]).toStrictEqual([true, 0n]);
    expect(resumed.sequences()).toStrictEqual([1n]);
    await after.powerOff(t.uuid);
    await until(() => resumed.sequences().length === 2);
    expect(resumed.sequences()).toStrictEqual([1n, 2n]);
    expect(resumed.ended).toBeUndefined();

    // Within the new stream, a sequence it has not reached is refused, naming the field.
    const future = watchEvents(target, { streamId: started.streamId, afterSequence: 99n });
    cleanups.push(future.close);
    await until(() => future.ended !== undefined);
    expect(future.ended?.code).toBe(status.INVALID_ARGUMENT);
    expect(future.ended?.details).toContain('afterSequence');
  });

  it('the remote driver reports the reset through onEventsLost and goes on delivering the new stream’s events', async () => {
    const dir = tempDir('nova-agent-events-');
    cleanups.push(dir.remove);
    const target = `unix://${join(dir.dir, 'agent.sock')}`;
    let running = await agent(dir.dir);
    const lost: EventsLost[] = [];
    const remote = guard(createRemoteDriver({ endpoint: target, onEventsLost: (i) => lost.push(i), retry: { attempts: 6, baseDelayMs: 100, maxDelayMs: 1000 }, reconnectWaitMs: 30_000 }));
    await remote.initHost();
    cleanups.push(() => remote.cleanupHost());
    const seen: LifecycleEvent[] = [];
    remote.subscribeEvents((e) => seen.push(e));
    const s = spec();
    await remote.spawn(s);
    await remote.pause(s.uuid);
    expect(seen.map((e) => e.kind)).toStrictEqual(['STARTED', 'PAUSED']);

    running.child.kill('SIGKILL');
    await running.exited;
    running = await agent(dir.dir);
    // The new agent's reference driver starts empty: the instance is spawned again there.
    await remote.spawn(spec());
    await until(() => lost.length === 1 && seen.length === 3);
    // Told of the reset: the new stream, none of whose events this client had seen, resumed from its start.
    expect(lost[0]).toMatchObject({ afterSequence: undefined, resumedAt: 0 });
    expect(seen.map((e) => e.kind)).toStrictEqual(['STARTED', 'PAUSED', 'STARTED']);
  });
});
