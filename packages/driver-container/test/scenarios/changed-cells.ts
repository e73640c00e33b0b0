import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineClient } from '../../src/client/engine-client.js';
import { BASE_IMAGE, NOTERM_IMAGE, spec, uuidv4 } from '../helpers.js';
import { clearOwner, EventLog, waitForConsole, within, type TestEngine } from './engines.js';

const NOTERM = { id: NOTERM_IMAGE, diskFormat: 'raw' as const, containerFormat: 'docker' as const };

/**
 * The cells contract 1.1 changed, and its new power-off and reboot rules, on a real engine. The two
 * SUSPENDED cells (soft reboot, snapshot) cannot be reached: no container is ever SUSPENDED (suspend
 * is declared missing).
 */
export function describeChangedCells(engine: TestEngine): void {
  describe(`contract 1.1 cells on ${engine.name}`, () => {
    let client: EngineClient;
    const owner = `c11-cells-${engine.name}`;
    const driver = engine.driver(owner);
    const created: string[] = [];
    const newInstance = (): string => {
      const uuid = uuidv4();
      created.push(uuid);
      return uuid;
    };

    beforeAll(async () => {
      client = await engine.require();
      await driver.initHost();
      await clearOwner(driver);
    });

    afterAll(async () => {
      for (const uuid of created) await driver.destroy(uuid).catch(() => undefined);
      await driver.cleanupHost();
      await client?.close();
    });

    it('R-REBOOTSOFT-PAUSED: a soft reboot of a PAUSED instance is INVALID_STATE and leaves it PAUSED', async () => {
      const uuid = newInstance();
      await driver.spawn(spec(uuid));
      await driver.pause(uuid);
      const before = await client.inspectContainer(`nova-${uuid}`);
      await expect(driver.reboot(uuid, 'SOFT')).rejects.toMatchObject({ code: 'INVALID_STATE', currentState: 'PAUSED' });
      const after = await client.inspectContainer(`nova-${uuid}`);
      expect((await driver.getInfo(uuid)).powerState).toBe('PAUSED');
      expect(after.State.StartedAt).toBe(before.State.StartedAt);
      // A hard reboot still takes it to RUNNING (R-REBOOTHARD-PAUSED).
      await driver.reboot(uuid, 'HARD');
      expect((await driver.getInfo(uuid)).powerState).toBe('RUNNING');
    });

    it('R-DETACHVOLUME-PAUSED and R-DETACHINTERFACE-PAUSED: detaching from a PAUSED instance is INVALID_STATE, the devices stay', async () => {
      const uuid = newInstance();
      const volumeId = uuidv4();
      const vif = { id: uuidv4(), address: 'fa:16:3e:11:00:01', network: { id: `c11-${uuid.slice(0, 8)}` } };
      await driver.spawn(
        spec(uuid, {
          networkInfo: [vif],
          blockDeviceInfo: { volumes: [{ volumeId, connectionInfo: { driverVolumeType: 'file', path: engine.volumeFile(`c11-${volumeId}.img`) } }] },
        }),
      );
      await driver.pause(uuid);
      const id = (await client.inspectContainer(`nova-${uuid}`)).Id;
      await expect(driver.detachVolume(uuid, volumeId)).rejects.toMatchObject({ code: 'INVALID_STATE', currentState: 'PAUSED' });
      await expect(driver.detachInterface(uuid, vif.id)).rejects.toMatchObject({ code: 'INVALID_STATE', currentState: 'PAUSED' });
      const info = await driver.getInfo(uuid);
      expect(info.powerState).toBe('PAUSED');
      expect(info.volumes.map((v) => v.volumeId)).toEqual([volumeId]);
      expect(info.interfaces).toEqual([{ id: vif.id, address: vif.address }]);
      // Nothing was recreated.
      expect((await client.inspectContainer(`nova-${uuid}`)).Id).toBe(id);
      // Once unpaused, both detach.
      await driver.unpause(uuid);
      await driver.detachVolume(uuid, volumeId);
      await driver.detachInterface(uuid, vif.id);
      expect(await driver.getInfo(uuid)).toMatchObject({ powerState: 'RUNNING', volumes: [], interfaces: [] });
    });

    it('R-REBUILD-SHUTDOWN: a rebuild of a SHUTDOWN instance leaves it SHUTDOWN, with the new metadata; from RUNNING it ends RUNNING', async () => {
      const uuid = newInstance();
      await driver.spawn(spec(uuid, { metadata: { v: '1' } }));
      await driver.powerOff(uuid, { gracefulTimeoutMs: 0 });
      const old = await client.inspectContainer(`nova-${uuid}`);
      await driver.rebuild(uuid, { image: { id: BASE_IMAGE, diskFormat: 'raw', containerFormat: 'docker' }, metadata: { v: '2' } });
      const rebuilt = await client.inspectContainer(`nova-${uuid}`);
      expect(rebuilt.Id).not.toBe(old.Id);
      expect(rebuilt.State.Running).toBe(false);
      expect(await driver.getInfo(uuid)).toMatchObject({ powerState: 'SHUTDOWN', metadata: { v: '2' } });
      await driver.powerOn(uuid);
      await driver.rebuild(uuid, { image: { id: BASE_IMAGE, diskFormat: 'raw', containerFormat: 'docker' }, metadata: { v: '3' } });
      expect(await driver.getInfo(uuid)).toMatchObject({ powerState: 'RUNNING', metadata: { v: '3' } });
    });

    it('R-POWER-OFF-PAUSED-FORCED: power off of a PAUSED instance does not wait its graceful timeout, and reads SHUTDOWN (not a crash)', async () => {
      const uuid = newInstance();
      const log = new EventLog(driver);
      try {
        await driver.spawn(spec(uuid, { image: NOTERM }));
        await waitForConsole(driver, uuid, 'ignoring SIGTERM');
        await driver.pause(uuid);
        const mark = log.mark();
        // A graceful wait would take the whole hour; forced, it takes a kill. 60 s is the contract's bound for the test.
        await within(60_000, 'powerOff of PAUSED with gracefulTimeoutMs 3 600 000', driver.powerOff(uuid, { gracefulTimeoutMs: 3_600_000 }));
        const state = (await client.inspectContainer(`nova-${uuid}`)).State;
        expect(state.Status).toBe('exited');
        expect(state.ExitCode).toBe(137); // a SIGKILL, which the driver asked for
        expect((await driver.getInfo(uuid)).powerState).toBe('SHUTDOWN');
        const { eventualConsistency } = await driver.getCapabilities();
        expect(await log.next(uuid, mark, (e) => e.kind === 'STOPPED', eventualConsistency.eventDeliveryMs)).toMatchObject({
          powerState: 'SHUTDOWN',
          cause: 'requested',
        });
        expect(log.of(uuid, mark)).not.toContain('CRASHED/CRASHED/requested');
      } finally {
        log.close();
      }
    });

    it('R-REBOOT-PREEMPT: a hard reboot and a destroy do not wait behind a soft reboot of a guest that ignores SIGTERM', async () => {
      // A grace period of 10 minutes: the soft reboot would hang that long; the guard cancels it instead.
      const slow = engine.driver(owner, { stopTimeoutSeconds: 600 });
      await slow.initHost();
      try {
        const uuid = newInstance();
        await slow.spawn(spec(uuid, { image: NOTERM }));
        await waitForConsole(slow, uuid, 'ignoring SIGTERM');
        const startedAt = (await client.inspectContainer(`nova-${uuid}`)).State.StartedAt;
        const soft = slow.reboot(uuid, 'SOFT').then(
          () => 'resolved',
          (e: { code?: string }) => e.code,
        );
        await new Promise((r) => setTimeout(r, 1000)); // the engine is now waiting on the SIGTERM
        await within(60_000, 'hard reboot preempting a soft reboot', slow.reboot(uuid, 'HARD'));
        expect(await within(10_000, 'the preempted soft reboot to let go', soft)).toBe('CANCELLED');
        const state = (await client.inspectContainer(`nova-${uuid}`)).State;
        expect(state.Status).toBe('running');
        expect(state.StartedAt).not.toBe(startedAt);
        expect((await slow.getInfo(uuid)).powerState).toBe('RUNNING');

        // The same with a destroy.
        const soft2 = slow.reboot(uuid, 'SOFT').then(
          () => 'resolved',
          (e: { code?: string }) => e.code,
        );
        await new Promise((r) => setTimeout(r, 1000));
        await within(60_000, 'destroy preempting a soft reboot', slow.destroy(uuid));
        expect(await within(10_000, 'the preempted soft reboot to let go', soft2)).toBe('CANCELLED');
        await expect(slow.getInfo(uuid)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
        await expect(client.inspectContainer(`nova-${uuid}`)).rejects.toMatchObject({ status: 404 });
      } finally {
        await slow.cleanupHost();
      }
    });
  });
}
