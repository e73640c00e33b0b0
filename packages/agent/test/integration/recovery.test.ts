import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import { guard, isDriverError, SEMANTICS, type GuardedDriver, type LifecycleEvent, type RestorableState, type SemanticState, type TableOperation } from '@nova-common/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteDriver } from '../../src/client/remote-driver.js';
import { serviceDefinition } from '../../src/grpc/service-definition.js';
import { GRPC_STATUS_OF } from '../../src/mapping/errors.js';
import { restorableStates } from '../../src/mapping/enums.js';
import * as pb from '../../src/wire.js';
import { runAgent, type RunningAgent } from '../helpers/cli.js';
import { tempDir } from '../helpers/serve.js';
import { spec } from '../helpers/specs.js';
import { WireClient } from '../helpers/wire-client.js';

const DESIRED: readonly RestorableState[] = ['RUNNING', 'SHUTDOWN', 'PAUSED', 'SUSPENDED'];
/** The start states a caller can reach through the API alone (CRASHED and NOSTATE need the backend). */
const STARTS = ['ABSENT', 'RUNNING', 'PAUSED', 'SHUTDOWN', 'SUSPENDED', 'RESCUE'] as const satisfies readonly SemanticState[];

const columnOf = (desired: RestorableState) => `restoreState${desired[0]}${desired.slice(1).toLowerCase()}` as TableOperation;

describe('contract 1.1 operations through a nova-agent process serving the reference driver', () => {
  const dir = tempDir('nova-agent-recovery-');
  let running: RunningAgent;
  let remote: GuardedDriver;
  let reader: GuardedDriver;
  let wire: WireClient;
  const events: LifecycleEvent[] = [];

  beforeAll(async () => {
    running = await runAgent([
      '--driver', '@nova-common/core/testing',
      '--listen', `unix://${dir.dir}/agent.sock`,
      '--listen-role', `reader=unix://${dir.dir}/reader.sock`,
      '--state-dir', dir.dir,
      '--log-level', 'warn',
    ]);
    remote = guard(createRemoteDriver({ endpoint: `unix://${dir.dir}/agent.sock` }));
    await remote.initHost();
    remote.subscribeEvents((e) => events.push(e));
    reader = guard(createRemoteDriver({ endpoint: `unix://${dir.dir}/reader.sock` }));
    await reader.initHost();
    wire = new WireClient(`unix://${dir.dir}/agent.sock`);
  });
  afterAll(async () => {
    wire?.close();
    await remote?.cleanupHost();
    await reader?.cleanupHost();
    if (running?.child.exitCode === null) expect(await running.stop()).toBe(0);
    dir.remove();
  });

  /** A fresh instance in `start` (ABSENT: a uuid nobody spawned). */
  async function instanceIn(start: (typeof STARTS)[number]): Promise<string> {
    const s = spec({ powerOn: start !== 'SHUTDOWN' });
    if (start === 'ABSENT') return s.uuid;
    await remote.spawn(s);
    if (start === 'PAUSED') await remote.pause(s.uuid);
    if (start === 'SUSPENDED') await remote.suspend(s.uuid);
    if (start === 'RESCUE') await remote.rescue(s.uuid);
    const info = await remote.getInfo(s.uuid);
    expect(start === 'RESCUE' ? info.mode : info.powerState).toBe(start === 'RESCUE' ? 'rescue' : start);
    return s.uuid;
  }

  it('the agent declares both operations of the recovery profile', async () => {
    const caps = await remote.getCapabilities();
    expect([caps.capabilities['operation.restore-state'].level, caps.capabilities['operation.list-snapshots'].level]).toStrictEqual(['complete', 'complete']);
  });

  it('restoreState answers each desired state from every state the API reaches exactly as the table says, with its events', async () => {
    let checked = 0;
    for (const desired of DESIRED) {
      for (const start of STARTS) {
        const cell = SEMANTICS[start][columnOf(desired)];
        const u = await instanceIn(start);
        const before = events.length;
        const outcome = await remote.restoreState(u, desired).then(
          () => 'OK',
          (e: unknown) => e,
        );
        const label = `${start} -> ${desired}`;
        const caused = events.slice(before).filter((e) => e.uuid === u);
        if (cell.kind === 'ok') {
          expect(outcome, label).toBe('OK');
          expect((await remote.getInfo(u)).powerState, label).toBe(cell.to);
          // A change is announced, as requested; a no-op announces nothing.
          if (cell.noop) expect(caused, label).toStrictEqual([]);
          else expect(caused.map((e) => [e.powerState, e.cause]), label).toStrictEqual([[cell.to, 'requested']]);
        } else {
          expect(isDriverError(outcome) && { code: outcome.code, op: outcome.op, currentState: outcome.currentState }, label).toStrictEqual({
            code: cell.error,
            op: 'restoreState',
            currentState: cell.error === 'INVALID_STATE' ? start : undefined,
          });
          expect(caused, label).toStrictEqual([]);
          // On the wire: the gRPC status of the code, and the ErrorDetail naming it.
          const raw = await wire.call('restoreState', { requestId: randomUUID(), uuid: u, desired: restorableStates.toProto(desired) });
          expect(!raw.ok && [raw.grpcCode, raw.error?.code], label).toStrictEqual([GRPC_STATUS_OF[cell.error], cell.error]);
          if (start !== 'ABSENT') {
            const info = await remote.getInfo(u);
            expect(info.mode === 'rescue' ? 'RESCUE' : info.powerState, label).toBe(start);
          }
        }
        if (start !== 'ABSENT') await remote.destroy(u);
        checked++;
      }
    }
    expect(checked).toBe(24);
    expect(GRPC_STATUS_OF.INVALID_STATE).toBe(status.FAILED_PRECONDITION);
    expect(GRPC_STATUS_OF.INSTANCE_NOT_FOUND).toBe(status.NOT_FOUND);
  });

  it('RestoreState is idempotent per request id; an unset desired state is INVALID_INPUT at `desired`', async () => {
    const u = await instanceIn('RUNNING');
    const requestId = randomUUID();
    const pause = { requestId, uuid: u, desired: pb.RestorableState.PAUSED };
    expect((await wire.call('restoreState', pause)).ok).toBe(true);
    await remote.unpause(u);
    // The repeat is answered from the journal: the instance stays as it is now.
    expect((await wire.call('restoreState', pause)).ok).toBe(true);
    expect((await remote.getInfo(u)).powerState).toBe('RUNNING');
    const reused = await wire.call('restoreState', { ...pause, desired: pb.RestorableState.SHUTDOWN });
    expect(!reused.ok && [reused.grpcCode, reused.error?.issues?.map((i) => i.path)]).toStrictEqual([status.INVALID_ARGUMENT, [['requestId']]]);
    const unset = await wire.call('restoreState', { requestId: randomUUID(), uuid: u });
    expect(!unset.ok && [unset.grpcCode, unset.error?.code, unset.error?.issues?.map((i) => i.path)]).toStrictEqual([status.INVALID_ARGUMENT, 'INVALID_INPUT', [['desired']]]);
    expect((await remote.getInfo(u)).powerState).toBe('RUNNING');
    await remote.destroy(u);
  });

  it('listSnapshots lists each image snapshot made, oldest first, until deleteSnapshot removes it; a reader may list', async () => {
    expect(await remote.listSnapshots()).toStrictEqual([]);
    const u = await instanceIn('RUNNING');
    const first = await remote.snapshot(u, { name: 'first' });
    const second = await remote.snapshot(u, { name: 'second' });
    expect(await remote.listSnapshots()).toStrictEqual([first, second]);
    expect(await reader.listSnapshots()).toStrictEqual([first, second]);
    await remote.deleteSnapshot(first.imageId);
    expect(await remote.listSnapshots()).toStrictEqual([second]);
    await remote.deleteSnapshot(first.imageId); // idempotent
    await remote.destroy(u);
    // Snapshots belong to the caller: they outlive the instance.
    expect(await reader.listSnapshots()).toStrictEqual([second]);
    await remote.deleteSnapshot(second.imageId);
    expect(await remote.listSnapshots()).toStrictEqual([]);
  });
});

describe('a server built before 1.1 (no RestoreState, no ListSnapshots)', () => {
  it('its bare UNIMPLEMENTED reaches the caller as UNSUPPORTED naming the capability', async () => {
    const dir = tempDir('nova-agent-old-');
    const socket = join(dir.dir, 'old.sock');
    const server = new Server();
    const old = Object.fromEntries(Object.entries(serviceDefinition(pb.ComputeService)).filter(([name]) => name !== 'restoreState' && name !== 'listSnapshots'));
    server.addService(old, {});
    await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    const raw = createRemoteDriver({ endpoint: `unix://${socket}`, retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 10 } });
    try {
      const outcomes = await Promise.all([raw.restoreState(randomUUID(), 'RUNNING'), raw.listSnapshots()].map((p) => p.catch((e: unknown) => e)));
      expect(outcomes.map((e) => isDriverError(e) && [e.code, e.op, e.capability])).toStrictEqual([
        ['UNSUPPORTED', 'restoreState', 'operation.restore-state'],
        ['UNSUPPORTED', 'listSnapshots', 'operation.list-snapshots'],
      ]);
    } finally {
      await raw.cleanupHost();
      server.forceShutdown();
      dir.remove();
    }
  });
});
