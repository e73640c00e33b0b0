import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DriverError } from '@nova-common/core';
import { LibvirtDriverConfigSchema } from '../src/config.js';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { covers, deviceEntryProblem, isStrictlyInside, matchesDeviceAllowlist, ownDirectoryProblem, volumeRootProblem } from '../src/volumes/rules.js';

/** The configuration's rules for volume roots and the device allowlist (pure, no host access). */

describe('volume roots', () => {
  // Pinned: every root that exposes a host system directory, and roots of their own that do not.
  const refused: [string, RegExp][] = [
    ['/', /must not be or contain the host system directory \/etc/],
    ['/etc', /system directory \/etc/],
    ['/etc/nova-volumes', /inside the host system directory \/etc/],
    ['/usr/local/volumes', /inside the host system directory \/usr/],
    ['/boot', /\/boot/],
    ['/dev', /\/dev/],
    ['/dev/shm/volumes', /inside the host system directory \/dev/],
    ['/proc', /\/proc/],
    ['/proc/self/root', /inside the host system directory \/proc/],
    ['/sys/block', /inside the host system directory \/sys/],
    ['/root', /\/root/],
    ['/root/volumes', /inside the host system directory \/root/],
    ['/lib64', /\/lib64/],
    ['/var', /host directory \/var as a whole/],
    ['/var/lib', /\/var\/lib as a whole/],
    ['/var/lib/libvirt', /\/var\/lib\/libvirt as a whole/],
    ['/tmp', /\/tmp as a whole/],
    ['/home', /\/home as a whole/],
    ['/run', /\/run as a whole/],
  ];
  it.each(refused)('refuses %s', (root, why) => {
    expect(volumeRootProblem(root)).toMatch(why);
  });

  it.each(['/var/lib/libvirt/images/nova-common/volumes', '/srv/volumes', '/tmp/nova-volumes', '/var/lib/nova/volumes', '/home/ops/volumes', '/data'])('accepts %s', (root) => {
    expect(volumeRootProblem(root)).toBeUndefined();
  });

  it('never accepts a root that is, contains or lies inside a system tree (property)', () => {
    const segment = fc.stringMatching(/^[a-z0-9._-]{1,8}$/).filter((s) => s !== '.' && s !== '..');
    fc.assert(
      fc.property(fc.constantFrom('/etc', '/usr', '/boot', '/dev', '/proc', '/sys', '/root'), fc.array(segment, { maxLength: 4 }), (tree, below) => {
        expect(volumeRootProblem([tree, ...below].join('/'))).toBeDefined();
        // Every ancestor of a system tree covers it.
        const ancestors = tree.split('/').map((_, i, all) => all.slice(0, i).join('/') || '/');
        for (const a of ancestors) expect(volumeRootProblem(a)).toBeDefined();
      }),
    );
  });

  it("must keep clear of the driver's own directories", () => {
    const dirs = { imageDir: '/var/lib/libvirt/images/nova-common/images', instancesDir: '/var/lib/libvirt/images/nova-common/instances' };
    expect(ownDirectoryProblem('/var/lib/libvirt/images/nova-common', dirs)).toMatch(/instancesDir/);
    expect(ownDirectoryProblem('/var/lib/libvirt/images/nova-common/instances/abc', dirs)).toMatch(/instancesDir/);
    expect(ownDirectoryProblem('/var/lib/libvirt/images/nova-common/images', dirs)).toMatch(/imageDir/);
    // Image ids are plain file names: a directory below imageDir reaches no image.
    expect(ownDirectoryProblem('/var/lib/libvirt/images/nova-common/images/volumes', dirs)).toBeUndefined();
    expect(ownDirectoryProblem('/var/lib/libvirt/images/nova-common/volumes', dirs)).toBeUndefined();
  });

  it('tells inside from outside on whole segments', () => {
    expect(covers('/srv/vol', '/srv/vol/a')).toBe(true);
    expect(covers('/srv/vol', '/srv/volumes/a')).toBe(false);
    expect(covers('/srv/vol/', '/srv/vol')).toBe(true);
    expect(isStrictlyInside('/srv/vol', '/srv/vol')).toBe(false);
    expect(isStrictlyInside('/srv/vol', '/srv/vol/a.img')).toBe(true);
    expect(isStrictlyInside('/srv/vol', '/srv/vol2/a.img')).toBe(false);
  });
});

describe('device allowlist', () => {
  it.each([
    ['/dev/*', /not \/dev as a whole/],
    ['/dev/', /not \/dev as a whole/],
    ['/*', /under \/dev\//],
    ['/d*', /under \/dev\//],
    ['/etc/passwd', /under \/dev\//],
    ['/dev/lo*op', /\* only as its last/],
    ['/dev/../etc/x', /normalised/],
    ['/dev//sda', /normalised/],
  ])('refuses %s', (entry, why) => {
    expect(deviceEntryProblem(entry)).toMatch(why);
  });

  it.each(['/dev/loop*', '/dev/sdb', '/dev/mapper/vg-vol*', '/dev/nbd1'])('accepts %s', (entry) => {
    expect(deviceEntryProblem(entry)).toBeUndefined();
  });

  it('matches exact entries exactly and star entries by prefix', () => {
    expect(matchesDeviceAllowlist(['/dev/loop*'], '/dev/loop7')).toBe(true);
    expect(matchesDeviceAllowlist(['/dev/loop*'], '/dev/sda')).toBe(false);
    expect(matchesDeviceAllowlist(['/dev/sdb'], '/dev/sdb1')).toBe(false);
    expect(matchesDeviceAllowlist(['/dev/sdb'], '/dev/sdb')).toBe(true);
    expect(matchesDeviceAllowlist([], '/dev/sdb')).toBe(false);
  });
});

describe('configuration', () => {
  it('defaults to one root of its own and no host block device', () => {
    const c = LibvirtDriverConfigSchema.parse({});
    expect(c.volumeRoots).toEqual(['/var/lib/libvirt/images/nova-common/volumes']);
    expect(c.deviceAllowlist).toEqual([]);
  });

  it('normalises roots', () => {
    expect(LibvirtDriverConfigSchema.parse({ volumeRoots: ['/srv//volumes/'] }).volumeRoots).toEqual(['/srv/volumes']);
  });

  it('refuses a root covering a system directory at creation, with INVALID_INPUT naming the field', () => {
    const err = (() => {
      try {
        createLibvirtDriver({ volumeRoots: ['/srv/volumes', '/'], deviceAllowlist: ['/dev/*'] });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(DriverError);
    expect(err).toMatchObject({ code: 'INVALID_INPUT' });
    const paths = (err as DriverError).issues!.map((i) => i.path);
    expect(paths).toContainEqual(['config', 'volumeRoots', 1]);
    expect(paths).toContainEqual(['config', 'deviceAllowlist', 0]);
    expect(paths).not.toContainEqual(['config', 'volumeRoots', 0]);
  });

  it.each([
    [{ volumeRoots: ['/etc'] }, ['volumeRoots', 0]],
    [{ volumeRoots: ['/srv/../etc'] }, ['volumeRoots', 0]],
    [{ volumeRoots: [] }, ['volumeRoots']],
    [{ volumeRoots: ['/var/lib/libvirt/images/nova-common/instances/x'] }, ['volumeRoots', 0]],
    [{ volumeRoots: ['/srv/images'], imageDir: '/srv/images' }, ['volumeRoots', 0]],
  ])('refuses %j at %j', (config, path) => {
    const parsed = LibvirtDriverConfigSchema.safeParse(config);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path)).toContainEqual(path);
  });
});
