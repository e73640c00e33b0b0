import { describe, expect, it } from 'vitest';
import { guard } from '../guard/guard.js';
import { createReferenceBackend, createReferenceDriver } from '../testing.js';
import { spec } from '../../test/reference-helpers.js';

describe('createReferenceBackend: state that outlives a driver object', () => {
  it('a driver made after another one ran cleanupHost sees its instances in their states, and destroys them', async () => {
    const backend = createReferenceBackend({ nodes: 2 });
    const first = guard(backend.createDriver());
    await first.initHost();
    const a = spec();
    await first.spawn(a);
    await first.pause(a.uuid);
    await first.cleanupHost();

    const second = guard(backend.createDriver());
    expect(second).not.toBe(first);
    await second.initHost();
    expect((await second.listInstances()).map((s) => s.uuid)).toEqual([a.uuid]);
    expect((await second.getInfo(a.uuid)).powerState).toBe('PAUSED');
    await second.destroy(a.uuid);
    expect(await second.listInstances()).toEqual([]);
    await second.cleanupHost();
  });

  it('its witness lists what the backend holds, powered on or not, without any driver', async () => {
    const backend = createReferenceBackend();
    const driver = guard(backend.createDriver());
    await driver.initHost();
    const a = spec();
    const b = spec();
    await driver.spawn(a);
    await driver.spawn(b);
    await driver.powerOff(b.uuid, { gracefulTimeoutMs: 0 });
    const machines = await backend.witness.listMachines();
    expect(machines.sort((x, y) => x.uuid.localeCompare(y.uuid))).toEqual(
      [
        { uuid: a.uuid, running: true },
        { uuid: b.uuid, running: false },
      ].sort((x, y) => x.uuid.localeCompare(y.uuid)),
    );
    await driver.destroy(a.uuid);
    expect((await backend.witness.listMachines()).map((m) => m.uuid)).toEqual([b.uuid]);
  });

  it('drivers of createReferenceDriver stay private hosts (the test double)', async () => {
    const one = createReferenceDriver();
    await one.spawn(spec());
    expect(await createReferenceDriver().listInstances()).toEqual([]);
  });
});
