import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineClient } from '../src/client/engine-client.js';
import { BASE_IMAGE, makeVolumeFile, requireEngine, spec, testDriver, uuidv4 } from './helpers.js';

let client: EngineClient;
let driver: ReturnType<typeof testDriver>;
const foreign: string[] = [];

beforeAll(async () => {
  client = await requireEngine();
  driver = testDriver('ownership-test');
  await driver.initHost();
});

afterAll(async () => {
  for (const id of foreign) await client.removeContainer(id).catch(() => undefined);
  await driver?.cleanupHost();
  await client?.close();
});

async function foreignContainer(name: string, labels: Record<string, string>): Promise<string> {
  const id = await client.createContainer(name, {
    Image: BASE_IMAGE,
    Labels: labels,
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    HostConfig: { Privileged: false, NetworkMode: 'none', Init: true },
  });
  foreign.push(id);
  await client.startContainer(id);
  return id;
}

describe('ownership: the driver never lists, changes or removes what it did not create', () => {
  it('ignores a container with the instance name but no owner label, and one owned by another owner id', async () => {
    const uuid = uuidv4();
    const other = uuidv4();
    const a = await foreignContainer(`nova-${uuid}`, { 'io.nova-common.uuid': uuid, 'io.nova-common.kind': 'instance' });
    const b = await foreignContainer(`nova-${other}`, {
      'io.nova-common.owner': 'someone-else',
      'io.nova-common.kind': 'instance',
      'io.nova-common.uuid': other,
    });

    const listed = (await driver.listInstances()).map((i) => i.uuid);
    expect(listed).not.toContain(uuid);
    expect(listed).not.toContain(other);
    await expect(driver.getInfo(uuid)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
    await expect(driver.pause(other)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });

    // destroy is idempotent for what it does not own, and touches nothing
    await driver.destroy(uuid);
    await driver.destroy(other);
    expect((await client.inspectContainer(a)).State.Status).toBe('running');
    expect((await client.inspectContainer(b)).State.Status).toBe('running');

    // the inventory does not count them
    const inv = await driver.getInventory();
    expect(inv.nodes[0]!.resources['VCPU']!.used).toBe(0);
  });

  it('lists and destroys its own instances, and removes everything it made for them', async () => {
    const uuid = uuidv4();
    await driver.spawn(spec(uuid, {
      metadata: { owner: 'me' },
      networkInfo: [{ id: uuidv4(), address: 'fa:16:3e:12:34:56', network: { id: `own-net-${uuid}` } }],
    }));
    expect((await driver.listInstances()).map((i) => i.uuid)).toContain(uuid);
    const info = await driver.getInfo(uuid);
    expect(info.metadata).toEqual({ owner: 'me' });
    expect(info.interfaces).toHaveLength(1);
    await driver.destroy(uuid);
    await driver.destroy(uuid);
    await expect(driver.getInfo(uuid)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
    const left = await client.listContainers({ label: [`io.nova-common.uuid=${uuid}`] });
    expect(left).toEqual([]);
    const nets = await client.listNetworks({ label: [`io.nova-common.network-id=own-net-${uuid}`] });
    expect(nets).toEqual([]);
  });

  it('refuses volumes outside the allowlisted root with INVALID_INPUT and leaves nothing behind', async () => {
    const uuid = uuidv4();
    for (const p of ['/etc/passwd', '/tmp/nova-common/docker/volumes/../../../etc/passwd', '/var/run/docker.sock']) {
      await expect(
        driver.spawn(spec(uuid, {
          blockDeviceInfo: { volumes: [{ volumeId: uuidv4(), connectionInfo: { driverVolumeType: 'file', path: p } }] },
        })),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
    expect(await client.listContainers({ label: [`io.nova-common.uuid=${uuid}`] })).toEqual([]);
    // and accepts one inside it
    const inside = makeVolumeFile(`ownership-${uuid}.img`);
    const volumeId = uuidv4();
    await driver.spawn(spec(uuid, {
      blockDeviceInfo: { volumes: [{ volumeId, connectionInfo: { driverVolumeType: 'file', path: inside } }] },
    }));
    expect((await driver.getInfo(uuid)).volumes.map((v) => v.volumeId)).toEqual([volumeId]);
    const c = await client.inspectContainer(`nova-${uuid}`);
    expect(c.HostConfig.Privileged).toBe(false);
    expect(c.HostConfig.NetworkMode).not.toBe('host');
    expect((c.HostConfig.Mounts ?? []).map((m) => m.Source)).toEqual([inside]);
    await driver.destroy(uuid);
  });

  it('refuses an image that is not a local reference or not present, with INVALID_INPUT on spec.image.id', async () => {
    const uuid = uuidv4();
    for (const id of ['Not A Ref', 'nova-common/does-not-exist:latest']) {
      await expect(driver.spawn(spec(uuid, { image: { id, diskFormat: 'raw', containerFormat: 'docker' } }))).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        issues: [{ path: ['spec', 'image', 'id'] }],
      });
    }
  });

  it('can be connected again after cleanupHost', async () => {
    const d = testDriver('ownership-test');
    await d.initHost();
    await d.cleanupHost();
    await d.initHost();
    expect(Array.isArray(await d.listInstances())).toBe(true);
    expect((await d.listNodes())[0]!.available).toBe(true);
    await d.cleanupHost();
  });
});
