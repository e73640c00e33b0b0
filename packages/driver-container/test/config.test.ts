import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DriverError, guard } from '@nova-common/core';
import { ContainerDriverConfigSchema } from '../src/config.js';
import { createContainerDriver } from '../src/driver/driver.js';
import { fakeEngine } from './fake-engine.js';

function refusal(config: unknown): DriverError {
  try {
    createContainerDriver(config as never);
  } catch (err) {
    return err as DriverError;
  }
  throw new Error('the configuration was accepted');
}

describe('configuration', () => {
  it('takes every default from an empty configuration', () => {
    expect(() => createContainerDriver()).not.toThrow();
  });

  it.each([
    [{ stopTimeoutSeconds: -1 }, ['config', 'stopTimeoutSeconds']],
    [{ socketPath: 'relative.sock' }, ['config', 'socketPath']],
    [{ volumeRoot: '/srv/../etc' }, ['config', 'volumeRoot']],
    [{ namePrefix: 'Nova' }, ['config', 'namePrefix']],
    [{ apiVersion: '2' }, ['config', 'apiVersion']],
    [{ stateDir: 'state' }, ['config', 'stateDir']],
  ] as const)('refuses %j with INVALID_INPUT naming %j', (config, path) => {
    const err = refusal(config);
    expect(err).toBeInstanceOf(DriverError);
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.issues?.map((i) => i.path)).toContainEqual(path);
  });

  it('refuses a field it does not know', () => {
    const err = refusal({ privileged: true });
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.issues?.[0]?.path).toEqual(['config']);
  });
});

describe('the state directory', () => {
  it('initHost refuses one it cannot write with INVALID_INPUT naming config.stateDir', async () => {
    const engine = await fakeEngine('docker', '0a1b2c3d-2222-4333-8444-555555555555');
    const blocker = path.join(mkdtempSync(path.join(tmpdir(), 'nova-state-')), 'a-file');
    writeFileSync(blocker, 'not a directory');
    const driver = guard(createContainerDriver({ socketPath: engine.socketPath, stateDir: path.join(blocker, 'state') }));
    try {
      const err = await driver.initHost().then(
        () => undefined,
        (e: unknown) => e as DriverError,
      );
      expect(err?.code).toBe('INVALID_INPUT');
      expect(err?.issues?.map((i) => i.path)).toContainEqual(['config', 'stateDir']);
    } finally {
      await driver.cleanupHost();
      await engine.close();
    }
  });
});

describe('hostile volume roots and device allowlists are refused at parse, the field named', () => {
  // The exact issue each refusal carries: field path and reason.
  it.each([
    ['/', "is the host's root directory: every host file would be a mountable volume"],
    ['/etc', 'contains the host system directory /etc (its files would be mountable volumes)'],
    ['/etc/nova', 'lies inside the host system directory /etc'],
    ['/usr/local/volumes', 'lies inside the host system directory /usr'],
    ['/bin', 'contains the host system directory /bin (its files would be mountable volumes)'],
    ['/boot/', 'contains the host system directory /boot (its files would be mountable volumes)'],
    ['/dev', 'contains the host system directory /dev (its files would be mountable volumes)'],
    ['/proc/self', 'lies inside the host system directory /proc'],
    ['/sys', 'contains the host system directory /sys (its files would be mountable volumes)'],
    ['/root', 'contains the host system directory /root (its files would be mountable volumes)'],
    ['/var', 'contains the host system directory /var/run (its files would be mountable volumes)'],
    ['/var/lib', 'contains the host system directory /var/lib/docker (its files would be mountable volumes)'],
    ['/var/lib/docker', 'contains the host system directory /var/lib/docker (its files would be mountable volumes)'],
    ['/var/lib/docker/volumes', 'lies inside the host system directory /var/lib/docker'],
    ['/var/lib/containers/storage', 'lies inside the host system directory /var/lib/containers'],
    ['/home', 'contains the shared directory /home; use a directory of its own below it (e.g. /home/nova-volumes)'],
    ['/tmp', 'contains the shared directory /tmp; use a directory of its own below it (e.g. /tmp/nova-volumes)'],
    ['//srv', 'contains the shared directory /srv; use a directory of its own below it (e.g. /srv/nova-volumes)'],
  ])('volumeRoot %j: %s', (volumeRoot, message) => {
    const err = refusal({ volumeRoot });
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.issues).toEqual([{ path: ['config', 'volumeRoot'], message }]);
  });

  it.each([
    ['/dev/*', 'covers every device in /dev/ (a wildcard must follow a device name prefix, e.g. /dev/loop*)'],
    ['/dev/mapper/*', 'covers every device in /dev/mapper/ (a wildcard must follow a device name prefix, e.g. /dev/loop*)'],
    ['/*', 'must name a block device under /dev/ (e.g. /dev/loop3 or /dev/loop*)'],
    ['/dev/', 'must name a block device under /dev/ (e.g. /dev/loop3 or /dev/loop*)'],
    ['/etc/shadow', 'must name a block device under /dev/ (e.g. /dev/loop3 or /dev/loop*)'],
    ['/dev/lo*op', 'a wildcard may only end an entry (e.g. /dev/loop*)'],
    ['/dev//sda1', 'must be a normalised path (no empty or . segments)'],
    ['/dev/sda', 'is a whole disk; allow a partition, a loop device or a logical volume instead'],
    ['/dev/vdb', 'is a whole disk; allow a partition, a loop device or a logical volume instead'],
    ['/dev/xvdf', 'is a whole disk; allow a partition, a loop device or a logical volume instead'],
    ['/dev/nvme0n1', 'is a whole disk; allow a partition, a loop device or a logical volume instead'],
    ['/dev/mmcblk0', 'is a whole disk; allow a partition, a loop device or a logical volume instead'],
    ['/dev/md127', 'is a whole disk; allow a partition, a loop device or a logical volume instead'],
    ['/dev/s*', "covers whole-disk devices (/dev/sd...): the host's own disks among them"],
    ['/dev/sd*', "covers whole-disk devices (/dev/sd...): the host's own disks among them"],
    ['/dev/sdb*', "covers whole-disk devices (/dev/sd...): the host's own disks among them"],
    ['/dev/nvme0*', "covers whole-disk devices (/dev/nvme...): the host's own disks among them"],
    ['/dev/dm-*', "covers whole-disk devices (/dev/dm-...): the host's own disks among them"],
  ])('deviceAllowlist entry %j: %s', (entry, message) => {
    const err = refusal({ deviceAllowlist: ['/dev/loop*', entry] });
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.issues).toEqual([{ path: ['config', 'deviceAllowlist', 1], message }]);
  });

  it('accepts the safe shapes the README shows', () => {
    for (const volumeRoot of ['/var/lib/nova-common/volumes', '/srv/nova/volumes', '/tmp/nova-common/docker/volumes', '/home/nova-volumes', '/mnt/volumes/nova']) {
      expect(() => createContainerDriver({ volumeRoot })).not.toThrow();
    }
    const deviceAllowlist = ['/dev/loop*', '/dev/loop3', '/dev/sdb1', '/dev/nvme1n1p2', '/dev/mmcblk0p3', '/dev/dm-4', '/dev/nbd*', '/dev/sdb1*'];
    expect(() => createContainerDriver({ deviceAllowlist })).not.toThrow();
  });
});

describe('engine deadlines', () => {
  it('default to 10 s to connect and 10 s for an answer (5 min for the calls that wait on the disk or a guest)', () => {
    const config = ContainerDriverConfigSchema.parse({});
    expect([config.connectTimeoutMs, config.requestTimeoutMs, config.longRequestTimeoutMs]).toEqual([10_000, 10_000, 300_000]);
  });

  it.each([
    [{ requestTimeoutMs: 0 }, ['config', 'requestTimeoutMs']],
    [{ connectTimeoutMs: 1e9 }, ['config', 'connectTimeoutMs']],
    [{ longRequestTimeoutMs: 1.5e3 + 0.5 }, ['config', 'longRequestTimeoutMs']],
  ] as const)('refuses %j naming %j', (config, path) => {
    expect(refusal(config).issues?.map((i) => i.path)).toContainEqual(path);
  });
});
