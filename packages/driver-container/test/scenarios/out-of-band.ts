import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendHooks, GuardedDriver } from '@nova-common/core';
import type { EngineClient } from '../../src/client/engine-client.js';
import { NOTERM_IMAGE, spec, uuidv4 } from '../helpers.js';
import { clearOwner, EventLog, waitForConsole, type TestEngine } from './engines.js';

/**
 * Transitions nobody asked the driver for, made on the engine directly (its API, as an operator or the
 * driver's backend hooks would), and the CRASHED row they lead to: the event the driver delivers and
 * what getInfo then reports must agree, with cause `out-of-band`; the driver's own calls are `requested`.
 */
export function describeOutOfBand(engine: TestEngine): void {
  describe(`out-of-band transitions and crashes on ${engine.name}`, () => {
    let client: EngineClient;
    let hooks: { backend: BackendHooks; close(): Promise<void> };
    let log: EventLog;
    let deliveryMs = 0;
    const owner = `c11-oob-${engine.name}`;
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
      hooks = engine.hooks(owner);
      log = new EventLog(driver);
      const caps = await driver.getCapabilities();
      expect(caps.capabilities['event.out-of-band'].level).toBe('complete');
      deliveryMs = caps.eventualConsistency.eventDeliveryMs;
    });

    afterAll(async () => {
      log?.close();
      for (const uuid of created) await driver.destroy(uuid).catch(() => undefined);
      await driver.cleanupHost();
      await hooks?.close();
      await client?.close();
    });

    /** The next event of `uuid` after `from` with this kind: it must carry `power` and `cause`, and getInfo must agree. */
    async function expectEvent(d: GuardedDriver, uuid: string, from: number, kind: string, power: string, cause: string): Promise<void> {
      const e = await log.next(uuid, from, (x) => x.kind === kind, deliveryMs);
      expect(e, `${kind} event of ${uuid}`).toMatchObject({ powerState: power, cause });
      expect((await d.getInfo(uuid)).powerState).toBe(power);
    }

    it("R-EVENT-OUT-OF-BAND: an operator's stop, start, pause and unpause on the engine are reported out-of-band, as getInfo then reads", async () => {
      const uuid = newInstance();
      let mark = log.mark();
      await driver.spawn(spec(uuid));
      await expectEvent(driver, uuid, mark, 'STARTED', 'RUNNING', 'requested');
      await waitForConsole(driver, uuid, 'guest up');

      mark = log.mark();
      await hooks.backend.powerOffOutOfBand!(uuid); // `docker stop`: SIGTERM, the init ends with 143
      await expectEvent(driver, uuid, mark, 'STOPPED', 'SHUTDOWN', 'out-of-band');

      mark = log.mark();
      await client.startContainer(`nova-${uuid}`);
      await expectEvent(driver, uuid, mark, 'STARTED', 'RUNNING', 'out-of-band');

      mark = log.mark();
      await client.pauseContainer(`nova-${uuid}`);
      await expectEvent(driver, uuid, mark, 'PAUSED', 'PAUSED', 'out-of-band');

      mark = log.mark();
      await client.unpauseContainer(`nova-${uuid}`);
      await expectEvent(driver, uuid, mark, 'RESUMED', 'RUNNING', 'out-of-band');

      // The driver's own calls on the same instance are requested.
      mark = log.mark();
      await driver.pause(uuid);
      await expectEvent(driver, uuid, mark, 'PAUSED', 'PAUSED', 'requested');
      mark = log.mark();
      await driver.powerOff(uuid, { gracefulTimeoutMs: 5000 });
      await expectEvent(driver, uuid, mark, 'STOPPED', 'SHUTDOWN', 'requested');
      expect(log.of(uuid, mark).filter((e) => e.endsWith('/out-of-band'))).toEqual([]);
    });

    it('the crash hook (SIGKILL to the init through the engine) reaches CRASHED, reported out-of-band; the CRASHED row works', async () => {
      const uuid = newInstance();
      await driver.spawn(spec(uuid));
      await waitForConsole(driver, uuid, 'guest up');
      let mark = log.mark();
      await hooks.backend.crash!(uuid);
      expect((await client.inspectContainer(`nova-${uuid}`)).State).toMatchObject({ Status: 'exited', ExitCode: 137 });
      await expectEvent(driver, uuid, mark, 'CRASHED', 'CRASHED', 'out-of-band');

      // Power on from CRASHED (R-POWERON-CRASHED) runs it again.
      mark = log.mark();
      await driver.powerOn(uuid);
      await expectEvent(driver, uuid, mark, 'STARTED', 'RUNNING', 'requested');

      // Power off from CRASHED (R-POWEROFF-CRASHED): SHUTDOWN without starting the crashed guest, reported by the driver.
      await hooks.backend.crash!(uuid);
      expect((await driver.getInfo(uuid)).powerState).toBe('CRASHED');
      const crashed = (await client.inspectContainer(`nova-${uuid}`)).State;
      mark = log.mark();
      await driver.powerOff(uuid);
      await expectEvent(driver, uuid, mark, 'STOPPED', 'SHUTDOWN', 'requested');
      const after = (await client.inspectContainer(`nova-${uuid}`)).State;
      expect(after.StartedAt).toBe(crashed.StartedAt); // never started again
      expect(after.Status).toBe('exited');

      // The record survives the driver: a new driver process (same owner and state directory) reads the same.
      const fresh = engine.driver(owner);
      await fresh.initHost();
      try {
        expect((await fresh.getInfo(uuid)).powerState).toBe('SHUTDOWN');
      } finally {
        await fresh.cleanupHost();
      }
    });

    it("the driver's own forced stops (a guest ignoring SIGTERM killed at the grace period, a PAUSED one) read SHUTDOWN, also for a new driver", async () => {
      const a = newInstance();
      const b = newInstance();
      const noterm = { image: { id: NOTERM_IMAGE, diskFormat: 'raw' as const, containerFormat: 'docker' as const } };
      await driver.spawn(spec(a, noterm));
      await driver.spawn(spec(b, noterm));
      await waitForConsole(driver, a, 'ignoring SIGTERM');
      await waitForConsole(driver, b, 'ignoring SIGTERM');
      const mark = log.mark();
      await driver.powerOff(a, { gracefulTimeoutMs: 1000 });
      await driver.pause(b);
      await driver.powerOff(b);
      for (const uuid of [a, b]) {
        expect((await client.inspectContainer(`nova-${uuid}`)).State.ExitCode).toBe(137);
        await expectEvent(driver, uuid, mark, 'STOPPED', 'SHUTDOWN', 'requested');
      }
      const fresh = engine.driver(owner);
      await fresh.initHost();
      try {
        expect((await fresh.getInfo(a)).powerState).toBe('SHUTDOWN');
        expect((await fresh.getInfo(b)).powerState).toBe('SHUTDOWN');
      } finally {
        await fresh.cleanupHost();
      }

      // The records live under <stateDir>/<digest of the engine's root dir>/<owner>/<container id>; one whose
      // container was removed behind the driver's back is forgotten by the next initHost.
      const engineDir = createHash('sha256').update((await client.info()).DockerRootDir).digest('hex').slice(0, 16);
      const recordOf = async (uuid: string) => path.join(engine.stateDir, engineDir, owner, (await client.inspectContainer(`nova-${uuid}`)).Id);
      const recordA = await recordOf(a);
      const recordB = await recordOf(b);
      expect(existsSync(recordA) && existsSync(recordB)).toBe(true);
      await client.removeContainer(`nova-${a}`);
      const later = engine.driver(owner);
      await later.initHost();
      await later.cleanupHost();
      expect(existsSync(recordA)).toBe(false);
      expect(existsSync(recordB)).toBe(true);
    });

    it('the hooks offer no loseState: an engine always knows the state of its containers', () => {
      expect(hooks.backend.loseState).toBeUndefined();
      expect(typeof hooks.backend.crash).toBe('function');
      expect(typeof hooks.backend.powerOffOutOfBand).toBe('function');
      expect(typeof hooks.backend.restartBackend).toBe('function');
    });
  });
}
