import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CAPABILITY_IDS, MANDATORY_CAPABILITIES } from '../capabilities/catalog.js';
import { DriverCapabilitiesSchema, supports } from '../capabilities/driver-capabilities.js';
import { DriverError, isDriverError } from '../errors/driver-error.js';
import { OPERATIONS, isAllowedError, type OperationName } from '../operations/registry.js';
import { ConsoleOutputSchema, LifecycleEventSchema, SnapshotResultSchema } from '../schemas/outputs.js';
import { InstanceInfoSchema, InstanceSummarySchema } from '../schemas/instance-info.js';
import { HostInventorySchema, NodeInfoSchema } from '../schemas/inventory.js';
import { expectedUsage } from '../semantics/oracle.js';
import { createReferenceDriver, referenceManifest, ReferenceDriverConfigSchema } from '../testing.js';
import { guard } from '../guard/guard.js';

/** The reference driver as every consumer gets it: behind the guard, which parses inputs and carries deadlines. */
const guarded = () => guard(createReferenceDriver());
import { BAREMETAL_FLAVOR, IMAGE_2, collectEvents, expectCode, flavor, spec, usedTotals, vif, volume } from '../../test/reference-helpers.js';

describe('configuration and manifest', () => {
  it('applies defaults and describes every field', () => {
    const config = ReferenceDriverConfigSchema.parse({});
    expect(config).toMatchObject({ nodes: 1, disabledCapabilities: [], releaseDelayMs: 0, eventDelayMs: 0 });
    for (const [name, field] of Object.entries(ReferenceDriverConfigSchema.shape)) {
      expect(field.description, `config field ${name} is described`).toMatch(/\S/);
    }
  });

  it('refuses a bad configuration with INVALID_INPUT naming the field', async () => {
    await expectCode(() => createReferenceDriver({ nodes: 0 }), 'INVALID_INPUT');
    try {
      createReferenceDriver({ disabledCapabilities: ['operation.launch'] });
      expect.unreachable('mandatory capability disabled');
    } catch (e) {
      expect((e as DriverError).issues?.[0]?.path).toEqual(['config', 'disabledCapabilities']);
    }
  });

  it('the manifest creates a working driver from parsed config', async () => {
    expect(referenceManifest.name).toBe('@nova-common/core/testing');
    expect(referenceManifest.contract).toBe('^1.2.0');
    const driver = referenceManifest.create(referenceManifest.configSchema.parse({ nodes: 2 }));
    await driver.initHost();
    expect(await driver.listNodes()).toHaveLength(2);
  });
});

describe('capabilities', () => {
  it('declares every capability, valid for the schema, with transports and zero bounds by default', async () => {
    const caps = await createReferenceDriver().getCapabilities();
    expect(DriverCapabilitiesSchema.safeParse(caps).success).toBe(true);
    for (const id of CAPABILITY_IDS) expect(supports(caps, id)).toBe(true);
    expect(caps.multiNode).toBe(false);
    expect(caps.volumeTransports.sort()).toEqual(['block', 'file', 'iscsi', 'rbd']);
    expect(caps.eventualConsistency).toEqual({ resourceReleaseMs: 0, eventDeliveryMs: 0, nodeAvailableMs: 0 });
  });

  it('declares the delays in eventualConsistency', async () => {
    const caps = await createReferenceDriver({ nodes: 3, releaseDelayMs: 40, eventDelayMs: 15 }).getCapabilities();
    expect(caps.multiNode).toBe(true);
    expect(caps.eventualConsistency).toEqual({ resourceReleaseMs: 40, eventDeliveryMs: 15, nodeAvailableMs: 40 });
  });

  it('a disabled capability is declared missing and its methods reject UNSUPPORTED, changing nothing', async () => {
    const optional = CAPABILITY_IDS.filter((id) => !MANDATORY_CAPABILITIES.includes(id));
    const driver = createReferenceDriver({ disabledCapabilities: optional });
    const caps = await driver.getCapabilities();
    for (const id of optional) expect(caps.capabilities[id]?.level).toBe('missing');
    const vol = randomUUID();
    const nic = randomUUID();
    const s = spec({ networkInfo: [vif(nic)], blockDeviceInfo: { ephemerals: [], volumes: [volume(vol, 5)] } });
    await driver.spawn(s);
    const before = await driver.getInfo(s.uuid);
    const calls: [string, () => unknown][] = [
      ['powerOff', () => driver.powerOff(s.uuid)],
      ['powerOn', () => driver.powerOn(s.uuid)],
      ['reboot', () => driver.reboot(s.uuid, 'HARD')],
      ['pause', () => driver.pause(s.uuid)],
      ['unpause', () => driver.unpause(s.uuid)],
      ['suspend', () => driver.suspend(s.uuid)],
      ['resume', () => driver.resume(s.uuid)],
      ['rescue', () => driver.rescue(s.uuid, {})],
      ['unrescue', () => driver.unrescue(s.uuid)],
      ['rebuild', () => driver.rebuild(s.uuid, { image: { ...IMAGE_2, properties: {} }, preserveEphemeral: false })],
      ['snapshot', () => driver.snapshot(s.uuid, { name: 'x' })],
      ['deleteSnapshot', () => driver.deleteSnapshot('img')],
      ['attachVolume', () => driver.attachVolume(s.uuid, volume())],
      ['detachVolume', () => driver.detachVolume(s.uuid, vol)],
      ['extendVolume', () => driver.extendVolume(s.uuid, vol, 50)],
      ['attachInterface', () => driver.attachInterface(s.uuid, vif())],
      ['detachInterface', () => driver.detachInterface(s.uuid, nic)],
      ['getConsoleOutput', () => driver.getConsoleOutput(s.uuid)],
      ['restoreState', () => driver.restoreState(s.uuid, 'SHUTDOWN')],
      ['listSnapshots', () => driver.listSnapshots()],
      ['subscribeEvents', () => driver.subscribeEvents(() => undefined)],
    ];
    for (const [name, call] of calls) {
      let caught: unknown;
      try {
        await call();
      } catch (e) {
        caught = e;
      }
      expect(isDriverError(caught) && caught.code, name).toBe('UNSUPPORTED');
      const expected = name === 'subscribeEvents' ? 'event.lifecycle' : OPERATIONS[name as OperationName].capability;
      expect((caught as DriverError).capability, name).toBe(expected);
    }
    expect(await driver.getInfo(s.uuid)).toEqual(before);
  });

  it('UNSUPPORTED comes before INVALID_INPUT and before the state checks', async () => {
    const driver = createReferenceDriver({ disabledCapabilities: ['operation.pause'] });
    await expectCode(() => driver.pause('not-a-uuid'), 'UNSUPPORTED');
    await expectCode(() => driver.pause(randomUUID()), 'UNSUPPORTED');
  });
});

describe('input validation', () => {
  it('INVALID_INPUT names the offending field (the guard parses every argument)', async () => {
    const driver = guarded();
    const bad = spec({ flavor: flavor({ vcpus: 0 }) });
    try {
      await driver.spawn(bad);
      expect.unreachable();
    } catch (e) {
      expect((e as DriverError).code).toBe('INVALID_INPUT');
      expect((e as DriverError).issues?.map((i) => i.path)).toContainEqual(['spec', 'flavor', 'vcpus']);
    }
    expect(await driver.listInstances()).toEqual([]);
    const cases: [() => Promise<unknown>, (string | number)[]][] = [
      [() => driver.getInfo('nope'), ['uuid']],
      [() => driver.destroy('nope'), ['uuid']],
      [() => driver.reboot(randomUUID(), 'WARM' as 'SOFT'), ['type']],
      [() => driver.extendVolume(randomUUID(), randomUUID(), 0), ['newSizeGb']],
      [() => driver.detachVolume(randomUUID(), 'vol'), ['volumeId']],
      [() => driver.detachInterface(randomUUID(), 'nic'), ['vifId']],
      [() => driver.attachVolume(randomUUID(), { ...volume(), volumeId: 'x' }), ['attachment', 'volumeId']],
      [() => driver.attachInterface(randomUUID(), { ...vif(), address: 'zz' }), ['vif', 'address']],
      [() => driver.snapshot(randomUUID(), { name: '' }), ['spec', 'name']],
      [() => driver.deleteSnapshot(''), ['imageId']],
      [() => driver.powerOff(randomUUID(), { gracefulTimeoutMs: -1 }), ['gracefulTimeoutMs']],
    ];
    for (const [call, path] of cases) {
      try {
        await call();
        expect.unreachable(`expected INVALID_INPUT at ${path.join('.')}`);
      } catch (e) {
        expect((e as DriverError).code).toBe('INVALID_INPUT');
        expect((e as DriverError).issues?.[0]?.path).toEqual(path);
      }
    }
  });

  it('INVALID_INPUT comes before INSTANCE_NOT_FOUND', async () => {
    const driver = guarded();
    await expectCode(() => driver.attachVolume(randomUUID(), { ...volume(), volumeId: 'x' }), 'INVALID_INPUT');
  });

  it('every error raised is allowed for its operation', async () => {
    const driver = guarded();
    const s = spec();
    await driver.spawn(s);
    const samples: [Parameters<typeof isAllowedError>[0], () => Promise<unknown>][] = [
      ['spawn', () => driver.spawn(s)],
      ['getInfo', () => driver.getInfo(randomUUID())],
      ['unpause', () => driver.powerOff(s.uuid).then(() => driver.unpause(s.uuid))],
      ['extendVolume', () => driver.extendVolume(s.uuid, randomUUID(), 3)],
      ['detachInterface', () => driver.detachInterface(s.uuid, randomUUID())],
    ];
    for (const [op, call] of samples) {
      try {
        await call();
        expect.unreachable(op);
      } catch (e) {
        expect(isAllowedError(op, (e as DriverError).code), `${op} may raise ${(e as DriverError).code}`).toBe(true);
      }
    }
  });
});

describe('instances', () => {
  it('spawn then getInfo reports name, metadata, node, devices sorted by id; listInstances the summary', async () => {
    const driver = createReferenceDriver();
    const vols = [volume('cccccccc-0000-4000-8000-000000000000', 3), volume('aaaaaaaa-0000-4000-8000-000000000000')];
    const nics = [vif('bbbbbbbb-0000-4000-8000-000000000000', 2), vif('11111111-0000-4000-8000-000000000000', 1)];
    const s = spec({ name: 'web <1> & "x"', metadata: { role: 'web', empty: '' }, networkInfo: nics, blockDeviceInfo: { ephemerals: [], volumes: vols } });
    await driver.spawn(s);
    const info = await driver.getInfo(s.uuid);
    expect(InstanceInfoSchema.parse(info)).toEqual(info);
    expect(info).toEqual({
      uuid: s.uuid,
      name: 'web <1> & "x"',
      powerState: 'RUNNING',
      mode: 'normal',
      node: 'reference-node-0',
      metadata: { role: 'web', empty: '' },
      volumes: [{ volumeId: 'aaaaaaaa-0000-4000-8000-000000000000' }, { volumeId: 'cccccccc-0000-4000-8000-000000000000', sizeGb: 3 }],
      interfaces: [
        { id: '11111111-0000-4000-8000-000000000000', address: 'fa:16:3e:00:00:01' },
        { id: 'bbbbbbbb-0000-4000-8000-000000000000', address: 'fa:16:3e:00:00:02' },
      ],
    });
    const list = await driver.listInstances();
    expect(list).toEqual([{ uuid: s.uuid, name: s.name, node: 'reference-node-0', metadata: { role: 'web', empty: '' } }]);
    for (const entry of list) expect(InstanceSummarySchema.safeParse(entry).success).toBe(true);
  });

  it('keeps metadata keys such as __proto__ and constructor unchanged', async () => {
    const driver = createReferenceDriver();
    const metadata = JSON.parse('{"__proto__":"a","constructor":"b","toString":"c"}') as Record<string, string>;
    const s = spec({ metadata });
    await driver.spawn(s);
    const info = await driver.getInfo(s.uuid);
    expect(Object.entries(info.metadata)).toEqual([['__proto__', 'a'], ['constructor', 'b'], ['toString', 'c']]);
    expect(Object.getPrototypeOf(info.metadata)).toBe(Object.prototype);
  });

  it('uuid identity is case-insensitive; the uuid is reported as spawned', async () => {
    const driver = createReferenceDriver();
    const s = spec({ uuid: randomUUID().toUpperCase() });
    await driver.spawn(s);
    await expectCode(() => driver.spawn({ ...s, uuid: s.uuid.toLowerCase() }), 'INSTANCE_EXISTS');
    expect((await driver.getInfo(s.uuid.toLowerCase())).uuid).toBe(s.uuid);
    await driver.destroy(s.uuid.toLowerCase());
    expect(await driver.listInstances()).toEqual([]);
  });

  it('getInfo of an unknown uuid rejects INSTANCE_NOT_FOUND; destroy of one succeeds', async () => {
    const driver = createReferenceDriver();
    const uuid = randomUUID();
    await expectCode(() => driver.getInfo(uuid), 'INSTANCE_NOT_FOUND');
    await expect(driver.destroy(uuid)).resolves.toBeUndefined();
    await driver.spawn(spec({ uuid }));
    await driver.destroy(uuid);
    await driver.destroy(uuid);
    await expectCode(() => driver.getInfo(uuid), 'INSTANCE_NOT_FOUND');
  });

  it('listInstances reports only instances this driver created and still exist', async () => {
    const a = createReferenceDriver();
    const b = createReferenceDriver();
    const s1 = spec();
    const s2 = spec();
    await a.spawn(s1);
    await a.spawn(s2);
    await b.spawn(spec());
    await a.destroy(s1.uuid);
    expect((await a.listInstances()).map((i) => i.uuid)).toEqual([s2.uuid]);
    await expectCode(() => b.getInfo(s2.uuid), 'INSTANCE_NOT_FOUND');
  });

  it('spawn with powerOn false leaves the instance SHUTDOWN without an event', async () => {
    const driver = createReferenceDriver();
    const { events } = collectEvents(driver);
    const s = spec({ powerOn: false });
    await driver.spawn(s);
    expect((await driver.getInfo(s.uuid)).powerState).toBe('SHUTDOWN');
    expect(events).toEqual([]);
  });
});

describe('devices', () => {
  it('attach, extend and detach volumes; preconditions raise the device errors', async () => {
    const driver = createReferenceDriver();
    const s = spec();
    await driver.spawn(s);
    const v = volume(randomUUID(), 10);
    await driver.attachVolume(s.uuid, v);
    await expectCode(() => driver.attachVolume(s.uuid, v), 'VOLUME_ALREADY_ATTACHED');
    await driver.extendVolume(s.uuid, v.volumeId, 20);
    expect((await driver.getInfo(s.uuid)).volumes).toEqual([{ volumeId: v.volumeId, sizeGb: 20 }]);
    await driver.extendVolume(s.uuid, v.volumeId, 20);
    try {
      await driver.extendVolume(s.uuid, v.volumeId, 5);
      expect.unreachable();
    } catch (e) {
      expect((e as DriverError).code).toBe('INVALID_INPUT');
      expect((e as DriverError).issues?.[0]?.path).toEqual(['newSizeGb']);
    }
    expect((await driver.getInfo(s.uuid)).volumes).toEqual([{ volumeId: v.volumeId, sizeGb: 20 }]);
    await driver.detachVolume(s.uuid, v.volumeId);
    await expectCode(() => driver.detachVolume(s.uuid, v.volumeId), 'VOLUME_NOT_ATTACHED');
    await expectCode(() => driver.extendVolume(s.uuid, v.volumeId, 30), 'VOLUME_NOT_ATTACHED');
    expect((await driver.getInfo(s.uuid)).volumes).toEqual([]);
  });

  it('extendVolume of a volume whose size was unknown records the new size', async () => {
    const driver = createReferenceDriver();
    const v = volume();
    const s = spec({ blockDeviceInfo: { ephemerals: [], volumes: [v] } });
    await driver.spawn(s);
    await driver.extendVolume(s.uuid, v.volumeId, 7);
    expect((await driver.getInfo(s.uuid)).volumes).toEqual([{ volumeId: v.volumeId, sizeGb: 7 }]);
  });

  it('attach and detach interfaces; preconditions raise the device errors', async () => {
    const driver = createReferenceDriver();
    const s = spec({ powerOn: false });
    await driver.spawn(s);
    const n = vif(randomUUID(), 7);
    await driver.attachInterface(s.uuid, n);
    expect((await driver.getInfo(s.uuid)).interfaces).toEqual([{ id: n.id, address: n.address }]);
    await expectCode(() => driver.attachInterface(s.uuid, n), 'INTERFACE_ALREADY_ATTACHED');
    await driver.detachInterface(s.uuid, n.id);
    await expectCode(() => driver.detachInterface(s.uuid, n.id), 'INTERFACE_NOT_ATTACHED');
  });

  it('the state check comes before the device precondition', async () => {
    const driver = createReferenceDriver();
    const s = spec();
    await driver.spawn(s);
    await driver.suspend(s.uuid);
    await expectCode(() => driver.detachVolume(s.uuid, randomUUID()), 'INVALID_STATE');
    await expectCode(() => driver.detachVolume(randomUUID(), randomUUID()), 'INSTANCE_NOT_FOUND');
  });
});

describe('rescue, rebuild, snapshot, console', () => {
  it('rescue sets mode rescue, unrescue back to normal', async () => {
    const driver = createReferenceDriver();
    const s = spec();
    await driver.spawn(s);
    await driver.rescue(s.uuid, { image: { ...IMAGE_2, properties: {} } });
    expect(await driver.getInfo(s.uuid)).toMatchObject({ powerState: 'RUNNING', mode: 'rescue' });
    await driver.unrescue(s.uuid);
    expect(await driver.getInfo(s.uuid)).toMatchObject({ powerState: 'RUNNING', mode: 'normal' });
  });

  it('rebuild replaces image and metadata, keeps uuid, volumes and interfaces, and runs', async () => {
    const driver = createReferenceDriver();
    const v = volume();
    const n = vif();
    const s = spec({ powerOn: false, metadata: { a: '1' }, networkInfo: [n], blockDeviceInfo: { ephemerals: [], volumes: [v] } });
    await driver.spawn(s);
    await driver.rebuild(s.uuid, { image: { ...IMAGE_2, properties: {} }, preserveEphemeral: false });
    let info = await driver.getInfo(s.uuid);
    expect(info).toMatchObject({ uuid: s.uuid, powerState: 'SHUTDOWN', metadata: { a: '1' } });
    expect(info.volumes.map((x) => x.volumeId)).toEqual([v.volumeId]);
    expect(info.interfaces.map((x) => x.id)).toEqual([n.id]);
    await driver.rebuild(s.uuid, { image: { ...IMAGE_2, properties: {} }, metadata: { b: '2' }, preserveEphemeral: true });
    info = await driver.getInfo(s.uuid);
    expect(info.metadata).toEqual({ b: '2' });
    expect((await driver.snapshot(s.uuid, { name: 'after-rebuild' })).diskFormat).toBe(IMAGE_2.diskFormat);
  });

  it('snapshot stores an image with the given name; deleteSnapshot removes it and is idempotent', async () => {
    const driver = createReferenceDriver();
    const s = spec();
    await driver.spawn(s);
    const snap = await driver.snapshot(s.uuid, { name: 'nightly' });
    expect(SnapshotResultSchema.parse(snap)).toEqual(snap);
    expect(snap.name).toBe('nightly');
    const other = await driver.snapshot(s.uuid, { name: 'nightly' });
    expect(other.imageId).not.toBe(snap.imageId);
    expect((await driver.listSnapshots()).map((x) => x.imageId)).toEqual([snap.imageId, other.imageId]);
    await driver.destroy(s.uuid);
    expect(await driver.listSnapshots()).toHaveLength(2);
    await driver.deleteSnapshot(snap.imageId);
    await driver.deleteSnapshot(snap.imageId);
    expect((await driver.listSnapshots()).map((x) => x.imageId)).toEqual([other.imageId]);
  });

  it('console output has one line per transition and truncates to consoleLogLimit', async () => {
    const driver = createReferenceDriver({ consoleLogLimit: 3 });
    const s = spec();
    await driver.spawn(s);
    let out = await driver.getConsoleOutput(s.uuid);
    expect(ConsoleOutputSchema.parse(out)).toEqual(out);
    expect(out).toEqual({ output: `[${s.uuid}] STARTED spawn: ABSENT -> RUNNING\n`, truncated: false });
    await driver.pause(s.uuid);
    await driver.pause(s.uuid); // noop: no line
    await driver.unpause(s.uuid);
    out = await driver.getConsoleOutput(s.uuid);
    expect(out.output.trimEnd().split('\n')).toEqual([
      `[${s.uuid}] STARTED spawn: ABSENT -> RUNNING`,
      `[${s.uuid}] PAUSED pause: RUNNING -> PAUSED`,
      `[${s.uuid}] RESUMED unpause: PAUSED -> RUNNING`,
    ]);
    expect(out.truncated).toBe(false);
    await driver.reboot(s.uuid, 'SOFT');
    out = await driver.getConsoleOutput(s.uuid);
    expect(out.truncated).toBe(true);
    expect(out.output.trimEnd().split('\n')).toHaveLength(3);
    expect(out.output).toContain(`[${s.uuid}] REBOOTED reboot: RUNNING -> RUNNING`);
  });
});

describe('events', () => {
  it('emits one valid event per power change, none for noops, CRASHED on simulateCrash', async () => {
    const driver = createReferenceDriver();
    const { events, stop } = collectEvents(driver);
    const s = spec();
    await driver.spawn(s);
    await driver.pause(s.uuid);
    await driver.pause(s.uuid);
    await driver.unpause(s.uuid);
    await driver.suspend(s.uuid);
    await driver.resume(s.uuid);
    await driver.powerOff(s.uuid, { gracefulTimeoutMs: 0 });
    await driver.powerOn(s.uuid);
    driver.simulateCrash(s.uuid);
    await driver.destroy(s.uuid);
    for (const e of events) expect(LifecycleEventSchema.safeParse(e).success).toBe(true);
    expect(events.map((e) => `${e.kind}/${e.powerState}`)).toEqual([
      'STARTED/RUNNING',
      'PAUSED/PAUSED',
      'RESUMED/RUNNING',
      'SUSPENDED/SUSPENDED',
      'RESUMED/RUNNING',
      'STOPPED/SHUTDOWN',
      'STARTED/RUNNING',
      'CRASHED/CRASHED',
    ]);
    stop();
    const t = spec();
    await driver.spawn(t);
    expect(events).toHaveLength(8);
  });

  it('destroy of a running instance emits STOPPED', async () => {
    const driver = createReferenceDriver();
    const s = spec();
    await driver.spawn(s);
    const { events } = collectEvents(driver);
    await driver.destroy(s.uuid);
    expect(events.map((e) => [e.uuid, e.kind, e.powerState, e.node])).toEqual([[s.uuid, 'STOPPED', 'SHUTDOWN', 'reference-node-0']]);
  });

  it('with eventDelayMs, events arrive after the operation resolved, within the declared bound', async () => {
    const driver = createReferenceDriver({ eventDelayMs: 20 });
    const { events } = collectEvents(driver);
    const s = spec();
    await driver.spawn(s);
    expect(events).toEqual([]);
    const bound = (await driver.getCapabilities()).eventualConsistency.eventDeliveryMs;
    await new Promise((r) => setTimeout(r, bound + 5));
    expect(events.map((e) => e.kind)).toEqual(['STARTED']);
  });

  it('cleanupHost delivers events still waiting; unsubscribed listeners get nothing', async () => {
    const driver = createReferenceDriver({ eventDelayMs: 60_000 });
    const { events } = collectEvents(driver);
    const gone = collectEvents(driver);
    await driver.spawn(spec());
    gone.stop();
    await driver.cleanupHost();
    expect(events.map((e) => e.kind)).toEqual(['STARTED']);
    expect(gone.events).toEqual([]);
  });

  it('a throwing listener does not break the operation or other listeners', async () => {
    const driver = createReferenceDriver();
    driver.subscribeEvents(() => {
      throw new Error('listener bug');
    });
    const { events } = collectEvents(driver);
    const s = spec();
    await driver.spawn(s);
    expect(events).toHaveLength(1);
    expect((await driver.getInfo(s.uuid)).powerState).toBe('RUNNING');
  });
});

describe('cancellation', () => {
  it('an aborted signal rejects CANCELLED before anything changes (through the guard)', async () => {
    const driver = guarded();
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    const signal = controller.signal;
    const s = spec();
    await expectCode(() => driver.spawn(s, { signal }), 'CANCELLED');
    expect(await driver.listInstances()).toEqual([]);
    await driver.spawn(s);
    const before = await driver.getInfo(s.uuid);
    await expectCode(() => driver.powerOff(s.uuid, { signal }), 'CANCELLED');
    await expectCode(() => driver.rebuild(s.uuid, { image: { ...IMAGE_2, properties: {} }, preserveEphemeral: false }, { signal }), 'CANCELLED');
    await expectCode(() => driver.attachVolume(s.uuid, volume(), { signal }), 'CANCELLED');
    await expectCode(() => driver.destroy(s.uuid, { signal }), 'CANCELLED');
    expect(await driver.getInfo(s.uuid)).toEqual(before);
  });
});

describe('inventory and nodes', () => {
  it('one node: used is the sum of expectedUsage over instances, with Nova default ratios', async () => {
    const driver = createReferenceDriver({ capacity: { vcpus: 4, memoryMb: 4096, diskGb: 100, reservedMemoryMb: 512 } });
    const f = flavor({ vcpus: 2, memoryMb: 1024, rootGb: 10, ephemeralGb: 5, swapMb: 1500 });
    const s1 = spec({ flavor: f });
    const s2 = spec({ flavor: f });
    await driver.spawn(s1);
    await driver.spawn(s2);
    const inv = await driver.getInventory();
    expect(HostInventorySchema.parse(inv)).toEqual(inv);
    const u = expectedUsage(f);
    expect(usedTotals(inv)).toEqual({ VCPU: 2 * u.VCPU!, MEMORY_MB: 2 * u.MEMORY_MB!, DISK_GB: 2 * u.DISK_GB! });
    expect(inv.nodes[0]!.resources.VCPU).toMatchObject({ total: 4, reserved: 0, allocationRatio: 16, maxUnit: 4 });
    expect(inv.nodes[0]!.resources.MEMORY_MB).toMatchObject({ total: 4096, reserved: 512, allocationRatio: 1.5 });
    await driver.destroy(s1.uuid);
    expect(usedTotals(await driver.getInventory())).toEqual({ VCPU: u.VCPU, MEMORY_MB: u.MEMORY_MB, DISK_GB: u.DISK_GB });
  });

  it('spawn refuses INSUFFICIENT_RESOURCES when a class lacks room, and leaves nothing behind', async () => {
    const driver = createReferenceDriver({ capacity: { vcpus: 2, memoryMb: 2048, diskGb: 10, cpuAllocationRatio: 1, ramAllocationRatio: 1 } });
    await driver.spawn(spec({ flavor: flavor({ vcpus: 2, memoryMb: 1024, rootGb: 5 }) }));
    const before = await driver.getInventory();
    const big = spec({ flavor: flavor({ vcpus: 1, memoryMb: 512, rootGb: 6 }) });
    await expectCode(() => driver.spawn(big), 'INSUFFICIENT_RESOURCES');
    const custom = spec({ flavor: flavor({ extraSpecs: { 'resources:CUSTOM_GPU': '1', 'resources:VCPU': '0' } }) });
    await expectCode(() => driver.spawn(custom), 'INSUFFICIENT_RESOURCES');
    await expectCode(() => driver.getInfo(big.uuid), 'INSTANCE_NOT_FOUND');
    expect(await driver.getInventory()).toEqual(before);
    expect(await driver.listInstances()).toHaveLength(1);
    // Exactly full is allowed: (total - reserved) * ratio - used >= requested.
    await driver.spawn(spec({ flavor: flavor({ vcpus: 1, memoryMb: 1024, rootGb: 5, extraSpecs: { 'resources:VCPU': '0' } }) }));
  });

  it('explicit node: NODE_NOT_FOUND for an unknown one', async () => {
    const driver = createReferenceDriver();
    await expectCode(() => driver.spawn(spec({ node: 'elsewhere' })), 'NODE_NOT_FOUND');
    const s = spec({ node: 'reference-node-0' });
    await driver.spawn(s);
    expect((await driver.getInfo(s.uuid)).node).toBe('reference-node-0');
  });

  it('many nodes: one instance per node, in-use nodes unavailable, NODE_UNAVAILABLE and INSUFFICIENT_RESOURCES when full', async () => {
    const driver = createReferenceDriver({ nodes: 3 });
    const inv0 = await driver.getInventory();
    expect(inv0.nodes).toHaveLength(3);
    expect(inv0.nodes[0]!.resources.CUSTOM_REFERENCE_NODE).toMatchObject({ total: 1, used: 0, maxUnit: 1 });
    const a = spec({ flavor: BAREMETAL_FLAVOR, node: 'reference-node-1' });
    await driver.spawn(a);
    await expectCode(() => driver.spawn(spec({ flavor: BAREMETAL_FLAVOR, node: 'reference-node-1' })), 'NODE_UNAVAILABLE');
    await expectCode(() => driver.spawn(spec({ flavor: BAREMETAL_FLAVOR, node: 'reference-node-9' })), 'NODE_NOT_FOUND');
    const b = spec({ flavor: BAREMETAL_FLAVOR });
    const c = spec({ flavor: flavor({ vcpus: 8 }) });
    await driver.spawn(b);
    await driver.spawn(c);
    await expectCode(() => driver.spawn(spec({ flavor: BAREMETAL_FLAVOR })), 'INSUFFICIENT_RESOURCES');
    const nodes = await driver.listNodes();
    for (const n of nodes) expect(NodeInfoSchema.safeParse(n).success).toBe(true);
    expect(nodes.find((n) => n.id === 'reference-node-1')).toEqual({ id: 'reference-node-1', available: false, unavailableReason: 'in-use', instanceUuid: a.uuid });
    expect(nodes.every((n) => !n.available)).toBe(true);
    const nodeOf = new Map((await driver.listInstances()).map((i) => [i.uuid, i.node]));
    expect(new Set(nodeOf.values()).size).toBe(3);
    expect(usedTotals(await driver.getInventory())).toEqual({ CUSTOM_REFERENCE_NODE: 2, VCPU: 8, MEMORY_MB: 512, DISK_GB: 1 });
    await driver.destroy(a.uuid);
    expect((await driver.listNodes()).find((n) => n.id === 'reference-node-1')).toEqual({ id: 'reference-node-1', available: true });
    const d = spec({ flavor: BAREMETAL_FLAVOR });
    await driver.spawn(d);
    expect((await driver.getInfo(d.uuid)).node).toBe('reference-node-1');
  });

  it('many nodes: a flavor bigger than a node is INSUFFICIENT_RESOURCES even on a free node', async () => {
    const driver = createReferenceDriver({ nodes: 2, capacity: { vcpus: 4 } });
    await expectCode(() => driver.spawn(spec({ flavor: flavor({ vcpus: 5 }) })), 'INSUFFICIENT_RESOURCES');
    await expectCode(() => driver.spawn(spec({ flavor: flavor({ vcpus: 5 }), node: 'reference-node-0' })), 'INSUFFICIENT_RESOURCES');
    expect((await driver.listNodes()).every((n) => n.available)).toBe(true);
  });

  it('releaseDelayMs: after destroy the node is cleaning and its resources stay used until the delay passes', async () => {
    const driver = createReferenceDriver({ nodes: 2, releaseDelayMs: 40 });
    const a = spec({ flavor: BAREMETAL_FLAVOR, node: 'reference-node-0' });
    await driver.spawn(a);
    await driver.destroy(a.uuid);
    await expectCode(() => driver.getInfo(a.uuid), 'INSTANCE_NOT_FOUND');
    expect(await driver.listInstances()).toEqual([]);
    expect((await driver.listNodes())[0]).toEqual({ id: 'reference-node-0', available: false, unavailableReason: 'cleaning' });
    expect(usedTotals(await driver.getInventory()).CUSTOM_REFERENCE_NODE).toBe(1);
    await expectCode(() => driver.spawn(spec({ flavor: BAREMETAL_FLAVOR, node: 'reference-node-0' })), 'NODE_UNAVAILABLE');
    const caps = await driver.getCapabilities();
    await new Promise((r) => setTimeout(r, Math.max(caps.eventualConsistency.nodeAvailableMs, caps.eventualConsistency.resourceReleaseMs) + 5));
    expect((await driver.listNodes())[0]).toEqual({ id: 'reference-node-0', available: true });
    expect(usedTotals(await driver.getInventory()).CUSTOM_REFERENCE_NODE).toBe(0);
    await driver.spawn(spec({ flavor: BAREMETAL_FLAVOR, node: 'reference-node-0' }));
  });

  it('releaseDelayMs on one node keeps resources used, the node stays available; cleanupHost completes releases', async () => {
    const driver = createReferenceDriver({ releaseDelayMs: 60_000 });
    const s = spec({ flavor: flavor({ vcpus: 3 }) });
    await driver.spawn(s);
    await driver.destroy(s.uuid);
    expect(usedTotals(await driver.getInventory()).VCPU).toBe(3);
    expect((await driver.listNodes())[0]!.available).toBe(true);
    await driver.cleanupHost();
    expect(usedTotals(await driver.getInventory()).VCPU).toBe(0);
  });
});

describe('simulate hooks', () => {
  it('simulateCrash and simulateNoState need an existing instance', () => {
    const driver = createReferenceDriver();
    expect(() => driver.simulateCrash(randomUUID())).toThrow(DriverError);
    expect(() => driver.simulateNoState(randomUUID())).toThrow(/INSTANCE_NOT_FOUND/);
  });

  it('simulateCrash leaves rescue mode', async () => {
    const driver = createReferenceDriver();
    const s = spec();
    await driver.spawn(s);
    await driver.rescue(s.uuid, {});
    driver.simulateCrash(s.uuid);
    expect(await driver.getInfo(s.uuid)).toMatchObject({ powerState: 'CRASHED', mode: 'normal' });
  });
});
