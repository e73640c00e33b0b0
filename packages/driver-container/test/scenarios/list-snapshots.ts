import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineClient } from '../../src/client/engine-client.js';
import { spec, uuidv4 } from '../helpers.js';
import { clearOwner, type TestEngine } from './engines.js';

/** R-SNAPSHOT-LIST on a real engine: what snapshot made and deleteSnapshot did not remove, oldest first, found on the engine. */
export function describeListSnapshots(engine: TestEngine): void {
  describe(`listSnapshots on ${engine.name}`, () => {
    let client: EngineClient;
    const owner = `c11-snaps-${engine.name}`;
    const driver = engine.driver(owner);
    const other = engine.driver(`${owner}-other`);

    beforeAll(async () => {
      client = await engine.require();
      await driver.initHost();
      await clearOwner(driver);
      await other.initHost();
      await clearOwner(other);
    });

    afterAll(async () => {
      for (const d of [driver, other]) {
        await clearOwner(d).catch(() => undefined);
        await d.cleanupHost();
      }
      await client?.close();
    });

    it('R-SNAPSHOT-LIST: lists every snapshot made and not deleted, oldest first, nothing else; a new driver finds them on the engine', async () => {
      expect(await driver.listSnapshots()).toEqual([]);
      const a = uuidv4();
      const b = uuidv4();
      const c = uuidv4();
      await driver.spawn(spec(a));
      await driver.spawn(spec(b, { powerOn: false }));
      await other.spawn(spec(c));
      const first = await driver.snapshot(a, { name: 'first "quoted" % name' });
      const second = await driver.snapshot(b, { name: 'second' });
      const third = await driver.snapshot(a, { name: 'third' });
      const foreign = await other.snapshot(c, { name: 'not mine' });
      // An attach commits the instance's writable layer to a state image of the same owner: never a snapshot.
      const volumeId = uuidv4();
      await driver.attachVolume(b, { volumeId, connectionInfo: { driverVolumeType: 'file', path: engine.volumeFile(`snaps-${volumeId}.img`) } });
      // (One label filter: podman 4.3 lists nothing for two.)
      const mine = await client.listImages({ label: [`io.nova-common.owner=${owner}`] });
      expect(mine.filter((i) => i.Labels?.['io.nova-common.kind'] === 'state-image')).toHaveLength(1);

      expect(await driver.listSnapshots()).toEqual([first, second, third]);
      expect(await other.listSnapshots()).toEqual([foreign]);

      // A new driver process (nothing in memory) reads the same from the engine.
      const fresh = engine.driver(owner);
      await fresh.initHost();
      try {
        expect(await fresh.listSnapshots()).toEqual([first, second, third]);
      } finally {
        await fresh.cleanupHost();
      }

      // Snapshots outlive their instance (the caller owns them); deleteSnapshot removes them from the list.
      await driver.destroy(a);
      expect(await driver.listSnapshots()).toEqual([first, second, third]);
      await driver.deleteSnapshot(second.imageId);
      expect(await driver.listSnapshots()).toEqual([first, third]);
      await driver.deleteSnapshot(second.imageId); // idempotent
      await driver.deleteSnapshot(first.imageId);
      await driver.deleteSnapshot(third.imageId);
      expect(await driver.listSnapshots()).toEqual([]);
      expect(await other.listSnapshots()).toEqual([foreign]);
      await driver.destroy(b);
      await other.destroy(c);
    });
  });
}
