import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendHooks, GuardedDriver, PowerState, RestorableState } from '@nova-common/core';
import type { EngineClient } from '../../src/client/engine-client.js';
import { NOTERM_IMAGE, spec, uuidv4 } from '../helpers.js';
import { clearOwner, EventLog, waitForConsole, type TestEngine } from './engines.js';

type Reachable = 'RUNNING' | 'PAUSED' | 'SHUTDOWN' | 'CRASHED';
const REACHABLE: Reachable[] = ['RUNNING', 'PAUSED', 'SHUTDOWN', 'CRASHED'];
const DESIRED: Exclude<RestorableState, 'SUSPENDED'>[] = ['RUNNING', 'PAUSED', 'SHUTDOWN'];

/** A new instance in `state`, made through the driver (CRASHED through the crash hook). */
async function instanceIn(driver: GuardedDriver, backend: BackendHooks, state: Reachable, uuid = uuidv4()): Promise<string> {
  await driver.spawn(spec(uuid, { powerOn: state !== 'SHUTDOWN' }));
  if (state === 'PAUSED') await driver.pause(uuid);
  if (state === 'CRASHED') {
    await waitForConsole(driver, uuid, 'guest up');
    await backend.crash!(uuid);
  }
  expect((await driver.getInfo(uuid)).powerState).toBe(state);
  return uuid;
}

/** restoreState(uuid, desired) must leave `desired`; in `desired` already it must change nothing (same container, same run). */
async function expectRestored(driver: GuardedDriver, client: EngineClient, uuid: string, from: PowerState, desired: RestorableState): Promise<void> {
  const before = await client.inspectContainer(`nova-${uuid}`);
  await driver.restoreState(uuid, desired);
  expect((await driver.getInfo(uuid)).powerState, `restoreState ${from} -> ${desired}`).toBe(desired);
  const after = await client.inspectContainer(`nova-${uuid}`);
  expect(after.Id).toBe(before.Id);
  if (from === desired) expect(after.State.StartedAt, `no-op ${from}`).toBe(before.State.StartedAt);
  // From CRASHED to SHUTDOWN nothing is started: the crashed run is only recorded as ended.
  if (from === 'CRASHED' && desired === 'SHUTDOWN') expect(after.State.StartedAt).toBe(before.State.StartedAt);
}

/** R-RESTORE-STATE, every cell a container can be in, without a restart; SUSPENDED and ABSENT. */
export function describeRestoreState(engine: TestEngine): void {
  describe(`restoreState on ${engine.name}`, () => {
    let client: EngineClient;
    let hooks: { backend: BackendHooks; close(): Promise<void> };
    const owner = `c11-restore-${engine.name}`;
    const driver = engine.driver(owner);
    const created: string[] = [];

    beforeAll(async () => {
      client = await engine.require();
      await driver.initHost();
      await clearOwner(driver);
      hooks = engine.hooks(owner);
    });

    afterAll(async () => {
      for (const uuid of created) await driver.destroy(uuid).catch(() => undefined);
      await driver.cleanupHost();
      await hooks?.close();
      await client?.close();
    });

    for (const from of REACHABLE) {
      it(`R-RESTORESTATE*-${from}: restoreState RUNNING, PAUSED and SHUTDOWN from ${from}, twice (idempotent)`, async () => {
        for (const desired of DESIRED) {
          const uuid = await instanceIn(driver, hooks.backend, from);
          created.push(uuid);
          await expectRestored(driver, client, uuid, from, desired);
          await expectRestored(driver, client, uuid, desired, desired);
        }
      });
    }

    it('restoreState SUSPENDED is UNSUPPORTED in every state (no container has a saved memory image), and changes nothing', async () => {
      for (const from of REACHABLE) {
        const uuid = await instanceIn(driver, hooks.backend, from);
        created.push(uuid);
        const before = await client.inspectContainer(`nova-${uuid}`);
        await expect(driver.restoreState(uuid, 'SUSPENDED'), from).rejects.toMatchObject({ code: 'UNSUPPORTED', capability: 'operation.suspend' });
        expect((await driver.getInfo(uuid)).powerState).toBe(from);
        expect((await client.inspectContainer(`nova-${uuid}`)).State.StartedAt).toBe(before.State.StartedAt);
      }
      await expect(driver.restoreState(uuidv4(), 'SUSPENDED')).rejects.toMatchObject({ code: 'UNSUPPORTED', capability: 'operation.suspend' });
      const caps = await driver.getCapabilities();
      expect(caps.capabilities['operation.restore-state'].level).toBe('partial');
      expect(caps.capabilities['operation.restore-state'].notes).toMatch(/SUSPENDED is UNSUPPORTED/);
      expect(caps.capabilities['operation.suspend'].level).toBe('missing');
    });

    it('R-RESTORESTATE*-ABSENT: restoreState of an unknown uuid is INSTANCE_NOT_FOUND', async () => {
      for (const desired of DESIRED) {
        await expect(driver.restoreState(uuidv4(), desired)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
      }
    });
  });
}

/**
 * After a real restart of the engine (the backend script's `restart`, through the restartBackend hook):
 * every container comes back stopped. A guest that ended on the engine's SIGTERM reads SHUTDOWN; one that
 * ignored it and was killed, and one that had crashed, read CRASHED. restoreState brings each where the
 * orchestrator wants it, through the same driver object (it reconnects by itself) and its event stream.
 */
export function describeRestoreAfterRestart(engine: TestEngine): void {
  describe(`restoreState after a real restart of ${engine.name}`, () => {
    let client: EngineClient;
    let hooks: { backend: BackendHooks; close(): Promise<void> };
    const owner = `c11-restart-${engine.name}`;
    const driver = engine.driver(owner);
    const created: string[] = [];

    beforeAll(async () => {
      client = await engine.require();
      await driver.initHost();
      await clearOwner(driver);
      hooks = engine.hooks(owner);
    });

    afterAll(async () => {
      for (const uuid of created) await driver.destroy(uuid).catch(() => undefined);
      for (const s of await driver.listSnapshots().catch(() => [])) await driver.deleteSnapshot(s.imageId).catch(() => undefined);
      await driver.cleanupHost();
      await hooks?.close();
      await client?.close();
    });

    it('R-RESTORE-STATE: each instance reads what the restart left, and restoreState brings it back', async () => {
      const log = new EventLog(driver);
      // [state before the restart, image, state after it, desired]
      const plan: [Reachable, 'base' | 'noterm', PowerState, RestorableState][] = [
        ['RUNNING', 'base', 'SHUTDOWN', 'RUNNING'],
        ['RUNNING', 'base', 'SHUTDOWN', 'PAUSED'],
        ['RUNNING', 'base', 'SHUTDOWN', 'SHUTDOWN'],
        ['PAUSED', 'base', 'SHUTDOWN', 'PAUSED'],
        ['SHUTDOWN', 'base', 'SHUTDOWN', 'RUNNING'],
        ['CRASHED', 'base', 'CRASHED', 'RUNNING'],
        ['CRASHED', 'base', 'CRASHED', 'PAUSED'],
        ['CRASHED', 'base', 'CRASHED', 'SHUTDOWN'],
        ['RUNNING', 'noterm', 'CRASHED', 'RUNNING'],
        ['RUNNING', 'noterm', 'CRASHED', 'SHUTDOWN'],
      ];
      const uuids: string[] = [];
      try {
        for (const [before, image] of plan) {
          const uuid = uuidv4();
          created.push(uuid);
          uuids.push(uuid);
          if (image === 'noterm') {
            await driver.spawn(spec(uuid, { image: { id: NOTERM_IMAGE, diskFormat: 'raw', containerFormat: 'docker' } }));
            await waitForConsole(driver, uuid, 'ignoring SIGTERM');
          } else {
            await instanceIn(driver, hooks.backend, before, uuid);
            if (before === 'RUNNING') await waitForConsole(driver, uuid, 'guest up');
          }
        }
        const snap = await driver.snapshot(uuids[0]!, { name: 'kept across the restart' });
        const { eventualConsistency } = await driver.getCapabilities();

        const restartMark = log.mark();
        await hooks.backend.restartBackend!();

        // The same driver object, without a new initHost: the engine's state as the restart left it.
        for (const [i, [before, image, after]] of plan.entries()) {
          expect((await driver.getInfo(uuids[i]!)).powerState, `${before} ${image} after the restart`).toBe(after);
        }
        // What the engine did to the running ones on its way down reached the listener, out-of-band (R-EVENT-OUT-OF-BAND).
        for (const [i, [before, , after]] of plan.entries()) {
          if (before !== 'RUNNING' && before !== 'PAUSED') continue;
          const kind = after === 'CRASHED' ? 'CRASHED' : 'STOPPED';
          const e = await log.next(uuids[i]!, restartMark, (x) => x.kind === kind, eventualConsistency.eventDeliveryMs);
          expect(e, `${before} -> ${after}`).toMatchObject({ powerState: after, cause: 'out-of-band' });
        }
        expect((await driver.listInstances()).map((s) => s.uuid).sort()).toEqual([...uuids].sort());
        expect(await driver.listSnapshots()).toEqual([snap]);
        await expect(driver.restoreState(uuids[0]!, 'SUSPENDED')).rejects.toMatchObject({ code: 'UNSUPPORTED', capability: 'operation.suspend' });

        const mark = log.mark();
        for (const [i, [, , after, desired]] of plan.entries()) await expectRestored(driver, client, uuids[i]!, after, desired);
        for (const [i, [, , , desired]] of plan.entries()) await expectRestored(driver, client, uuids[i]!, desired, desired);

        // The event stream came back by itself: the restore's transitions arrive, as requested.
        const started = await log.next(uuids[0]!, mark, (e) => e.kind === 'STARTED', eventualConsistency.eventDeliveryMs);
        expect(started).toMatchObject({ powerState: 'RUNNING', cause: 'requested' });
        const paused = await log.next(uuids[3]!, mark, (e) => e.kind === 'PAUSED', eventualConsistency.eventDeliveryMs);
        expect(paused).toMatchObject({ powerState: 'PAUSED', cause: 'requested' });
        const acknowledged = await log.next(uuids[7]!, mark, (e) => e.kind === 'STOPPED', eventualConsistency.eventDeliveryMs);
        expect(acknowledged).toMatchObject({ powerState: 'SHUTDOWN', cause: 'requested' });
      } finally {
        log.close();
      }
    });
  });
}
