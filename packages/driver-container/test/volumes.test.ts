import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineClient } from '../src/client/engine-client.js';
import { demultiplex } from '../src/mapping/console.js';
import { makeVolumeFile, requireEngine, spec, testDriver, uuidv4 } from './helpers.js';

const run = promisify(execFile);
let client: EngineClient;
const driver = testDriver('volumes-test', { deviceAllowlist: ['/dev/loop*'] });

beforeAll(async () => {
  client = await requireEngine();
  await driver.initHost();
});

afterAll(async () => {
  await driver.cleanupHost();
  await client?.close();
});

/** Run a command in the instance's container and return its output (test-only; the driver never execs). */
async function exec(uuid: string, cmd: string[]): Promise<string> {
  const created = await client.request<{ Id: string }>('POST', `/containers/nova-${uuid}/exec`, {
    body: { Cmd: cmd, AttachStdout: true, AttachStderr: true },
  });
  const out = await client.request<string>('POST', `/exec/${created.body.Id}/start`, { body: { Detach: false, Tty: false } });
  return demultiplex(Buffer.from(out.body, 'latin1'));
}

describe('attaching a volume to a running instance (engines cannot hot-add mounts)', () => {
  it('recreates the container with the mount, keeps its root filesystem changes, interfaces and power state', async () => {
    const uuid = uuidv4();
    const vifId = uuidv4();
    await driver.spawn(spec(uuid, { networkInfo: [{ id: vifId, address: 'fa:16:3e:aa:bb:cc', network: { id: `vol-net-${uuid}` } }] }));
    await exec(uuid, ['sh', '-c', 'echo kept > /root/marker']);
    const volumeId = uuidv4();
    const file = makeVolumeFile(`volumes-${volumeId}.img`);

    await driver.attachVolume(uuid, { volumeId, deviceName: 'vdb', connectionInfo: { driverVolumeType: 'file', path: file } });
    let info = await driver.getInfo(uuid);
    expect(info.powerState).toBe('RUNNING');
    expect(info.volumes).toEqual([{ volumeId, deviceName: 'vdb' }]);
    expect(info.interfaces).toEqual([{ id: vifId, address: 'fa:16:3e:aa:bb:cc' }]);
    expect(await exec(uuid, ['cat', '/root/marker'])).toBe('kept\n');
    expect(await exec(uuid, ['sh', '-c', `test -f /volumes/${volumeId} && echo mounted`])).toBe('mounted\n');
    await expect(driver.attachVolume(uuid, { volumeId, connectionInfo: { driverVolumeType: 'file', path: file } })).rejects.toMatchObject({
      code: 'VOLUME_ALREADY_ATTACHED',
    });

    // Since 1.1 a PAUSED instance cannot lose a device (its guest cannot acknowledge the unplug); it stays as it was.
    await driver.pause(uuid);
    await expect(driver.detachVolume(uuid, volumeId)).rejects.toMatchObject({ code: 'INVALID_STATE', currentState: 'PAUSED' });
    info = await driver.getInfo(uuid);
    expect(info.powerState).toBe('PAUSED');
    expect(info.volumes).toEqual([{ volumeId, deviceName: 'vdb' }]);
    await driver.unpause(uuid);
    await driver.detachVolume(uuid, volumeId);
    info = await driver.getInfo(uuid);
    expect(info.powerState).toBe('RUNNING');
    expect(info.volumes).toEqual([]);
    expect(await exec(uuid, ['cat', '/root/marker'])).toBe('kept\n');
    await expect(driver.detachVolume(uuid, volumeId)).rejects.toMatchObject({ code: 'VOLUME_NOT_ATTACHED' });

    await driver.destroy(uuid);
    // The commit that carried the writable layer is gone with the instance.
    await expect(client.inspectImage(`nova-state/${uuid}:latest`)).rejects.toMatchObject({ status: 404 });
    expect(await client.listContainers({ label: [`io.nova-common.uuid=${uuid}`] })).toEqual([]);
    expect(await client.listImages({ label: [`io.nova-common.uuid=${uuid}`] })).toEqual([]);
  });

  it('snapshots commit to an owned image that deleteSnapshot removes, idempotently', async () => {
    const uuid = uuidv4();
    await driver.spawn(spec(uuid));
    const snap = await driver.snapshot(uuid, { name: 'before upgrade' });
    expect(snap).toMatchObject({ name: 'before upgrade', diskFormat: 'raw', containerFormat: 'docker' });
    expect((await client.inspectImage(snap.imageId)).Config?.Labels?.['io.nova-common.kind']).toBe('snapshot');
    // A snapshot can boot a new instance.
    const child = uuidv4();
    await driver.spawn(spec(child, { image: { id: snap.imageId, diskFormat: 'raw', containerFormat: 'docker' } }));
    expect((await driver.getInfo(child)).powerState).toBe('RUNNING');
    await driver.destroy(child);
    await driver.destroy(uuid);
    await driver.deleteSnapshot(snap.imageId);
    await driver.deleteSnapshot(snap.imageId);
    await expect(client.inspectImage(snap.imageId)).rejects.toMatchObject({ status: 404 });
    // An image it did not make is refused, not removed.
    await expect(driver.deleteSnapshot('nova-common/busybox:latest')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await client.inspectImage('nova-common/busybox:latest');
  });

  it('maps a block volume to a device, only from the device allowlist', async () => {
    const uuid = uuidv4();
    const volumeId = uuidv4();
    const backing = makeVolumeFile(`block-${volumeId}.img`);
    await run('truncate', ['-s', '8M', backing]);
    const loop = (await run('losetup', ['--find', '--show', backing])).stdout.trim();
    try {
      await driver.spawn(spec(uuid, {
        blockDeviceInfo: { volumes: [{ volumeId, deviceName: 'vdc', connectionInfo: { driverVolumeType: 'block', devicePath: loop } }] },
      }));
      expect((await driver.getInfo(uuid)).volumes).toEqual([{ volumeId, deviceName: 'vdc' }]);
      expect(await exec(uuid, ['sh', '-c', `test -b /dev/nova-vol-${volumeId} && echo block`])).toBe('block\n');
      await driver.destroy(uuid);
      // Not allowlisted: a driver without the device allowlist refuses the same device.
      const strict = testDriver('volumes-test-strict');
      await strict.initHost();
      await expect(
        strict.spawn(spec(uuidv4(), {
          blockDeviceInfo: { volumes: [{ volumeId, connectionInfo: { driverVolumeType: 'block', devicePath: loop } }] },
        })),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: ['spec', 'blockDeviceInfo', 'volumes', 0, 'connectionInfo', 'devicePath'] }] });
      await strict.cleanupHost();
    } finally {
      await driver.destroy(uuid);
      await run('losetup', ['-d', loop]);
    }
  });
});
