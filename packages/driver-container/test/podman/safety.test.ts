import { execFile } from 'node:child_process';
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineClient } from '../../src/client/engine-client.js';
import { BASE_IMAGE, spec, uuidv4 } from '../helpers.js';
import { PODMAN_VOLUME_ROOT, makePodmanVolumeFile, podmanDriver, requirePodman } from './helpers.js';

// What dockerd gets in ownership.test.ts / volumes.test.ts, checked on podman: podman reports some of its
// inspect fields differently, so these checks read the kernel's view of the container's init (its /proc entry)
// besides the engine's answer.

const run = promisify(execFile);
const OWNER = 'podman-safety';
let client: EngineClient;
const driver = podmanDriver(OWNER, { deviceAllowlist: ['/dev/loop*'] });
const foreign: string[] = [];

beforeAll(async () => {
  client = await requirePodman();
  await driver.initHost();
});

afterAll(async () => {
  for (const id of foreign) await client?.removeContainer(id).catch(() => undefined);
  await driver.cleanupHost();
  await client?.close();
});

const CAP_SYS_ADMIN = 21n;
const CAP_NET_ADMIN = 12n;

function procStatus(pid: number): Record<string, string> {
  return Object.fromEntries(
    readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .filter((l) => l.includes(':'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
  );
}

describe('podman: instances are never privileged, never on the host network, PID or IPC namespace', () => {
  it('a spawned instance runs unprivileged in namespaces of its own, with only its allowlisted file and device', async () => {
    const uuid = uuidv4();
    const fileVolume = uuidv4();
    const blockVolume = uuidv4();
    const file = makePodmanVolumeFile(`safety-${fileVolume}.img`);
    const backing = makePodmanVolumeFile(`safety-block-${blockVolume}.img`);
    await truncate(backing, 8 * 1024 * 1024);
    const loop = (await run('losetup', ['--find', '--show', backing])).stdout.trim();
    try {
      await driver.spawn(spec(uuid, {
        networkInfo: [{ id: uuidv4(), address: 'fa:16:3e:5a:fe:01', network: { id: `safety-${uuid}` } }],
        blockDeviceInfo: {
          volumes: [
            { volumeId: fileVolume, connectionInfo: { driverVolumeType: 'file', path: file } },
            { volumeId: blockVolume, connectionInfo: { driverVolumeType: 'block', devicePath: loop } },
          ],
        },
      }));
      const c = await client.inspectContainer(`nova-${uuid}`);
      const hc = c.HostConfig as unknown as Record<string, unknown>;
      // The engine's answer.
      expect(hc['Privileged']).toBe(false);
      for (const key of ['NetworkMode', 'PidMode', 'IpcMode', 'UTSMode']) expect(hc[key], key).not.toBe('host');
      // podman reports 'bridge' here for any bridge network; the networks themselves are checked below.
      expect(Object.keys(c.NetworkSettings.Networks ?? {})).toHaveLength(2);
      expect(Object.keys(c.NetworkSettings.Networks ?? {})).toContain(`nova-${OWNER}-base`);
      expect(hc['CapAdd'] ?? []).toEqual([]);
      const binds = (c.Mounts ?? []).filter((m) => m.Type === 'bind').map((m) => m.Source);
      expect(binds).toEqual([file]);
      expect((c.HostConfig.Devices ?? []).map((d) => d.PathInContainer)).toEqual([`/dev/nova-vol-${blockVolume}`]);

      // The kernel's view of the container's init.
      const pid = (c.State as unknown as { Pid: number }).Pid;
      expect(pid).toBeGreaterThan(0);
      for (const ns of ['net', 'pid', 'ipc', 'uts', 'mnt']) {
        expect(readlinkSync(`/proc/${pid}/ns/${ns}`), `${ns} namespace`).not.toBe(readlinkSync(`/proc/self/ns/${ns}`));
      }
      const status = procStatus(pid);
      expect(status['NoNewPrivs']).toBe('1');
      const capEff = BigInt(`0x${status['CapEff']}`);
      expect((capEff >> CAP_SYS_ADMIN) & 1n).toBe(0n);
      expect((capEff >> CAP_NET_ADMIN) & 1n).toBe(0n);
      // The device inside is the allowlisted loop device (podman's inspect names another host node with the
      // same numbers, so the node itself is checked).
      const inside = statSync(`/proc/${pid}/root/dev/nova-vol-${blockVolume}`);
      expect(inside.isBlockDevice()).toBe(true);
      expect(inside.rdev).toBe(statSync(loop).rdev);
      // The only interfaces: loopback, the base network's and the VIF's (internal bridges this driver made).
      const ifaces = readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter(Boolean).sort();
      expect(ifaces).toEqual(['eth0', 'eth1', 'lo']);
      for (const name of Object.keys(c.NetworkSettings.Networks ?? {})) {
        const n = await client.inspectNetwork(name);
        expect(n.Internal, `network ${name} is internal`).toBe(true);
        expect(n.Labels?.['io.nova-common.owner'], `network ${name} is this driver's`).toBe(OWNER);
      }
    } finally {
      await driver.destroy(uuid);
      await run('losetup', ['-d', loop]);
    }
    expect(await client.listContainers({ label: [`io.nova-common.uuid=${uuid}`] })).toEqual([]);
  });

  it('refuses volumes outside the allowlisted root and devices outside the allowlist, leaving nothing behind', async () => {
    const uuid = uuidv4();
    for (const p of ['/etc/passwd', `${PODMAN_VOLUME_ROOT}/../../../etc/passwd`, '/run/nova-common/podman.sock', PODMAN_VOLUME_ROOT]) {
      await expect(
        driver.spawn(spec(uuid, {
          blockDeviceInfo: { volumes: [{ volumeId: uuidv4(), connectionInfo: { driverVolumeType: 'file', path: p } }] },
        })),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
    await expect(
      driver.spawn(spec(uuid, {
        blockDeviceInfo: { volumes: [{ volumeId: uuidv4(), connectionInfo: { driverVolumeType: 'block', devicePath: '/dev/sda' } }] },
      })),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await client.listContainers({ label: [`io.nova-common.uuid=${uuid}`] })).toEqual([]);
  });

  it('never lists, changes or removes a container it did not create, even under an instance name', async () => {
    const uuid = uuidv4();
    const id = await client.createContainer(`nova-${uuid}`, {
      Image: BASE_IMAGE,
      Labels: { 'io.nova-common.kind': 'instance', 'io.nova-common.uuid': uuid, 'io.nova-common.owner': 'someone-else' },
      Tty: false,
      OpenStdin: false,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      HostConfig: { Privileged: false, NetworkMode: 'none', Init: true },
    });
    foreign.push(id);
    await client.startContainer(id);
    expect((await driver.listInstances()).map((i) => i.uuid)).not.toContain(uuid);
    await expect(driver.getInfo(uuid)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
    await expect(driver.powerOff(uuid)).rejects.toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
    await driver.destroy(uuid);
    expect((await client.inspectContainer(id)).State.Status).toBe('running');
  });
});
