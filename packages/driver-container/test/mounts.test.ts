import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DriverError } from '@nova-common/core';
import { isStrictlyInside, matchesDeviceAllowlist, resolveVolume } from '../src/mapping/mounts.js';

let sandbox: string;
let root: string;

beforeAll(() => {
  // sandbox/
  //   outside.img            a file outside the root
  //   root/                  the allowlisted volume root
  //     a.img, ü.img, sub/b.img
  //     link-out -> ../outside.img      (symlink escape to a file)
  //     dir-out  -> ..                  (symlink escape to a directory)
  //     link-in  -> sub/b.img           (symlink staying inside)
  //     abs-out  -> /etc/passwd         (absolute symlink escape)
  sandbox = realpathSync(mkdtempSync(path.join(tmpdir(), 'nova-mounts-')));
  root = path.join(sandbox, 'root');
  mkdirSync(path.join(root, 'sub'), { recursive: true });
  writeFileSync(path.join(sandbox, 'outside.img'), 'x');
  writeFileSync(path.join(root, 'a.img'), 'x');
  writeFileSync(path.join(root, 'ü.img'), 'x');
  writeFileSync(path.join(root, 'sub', 'b.img'), 'x');
  symlinkSync('../outside.img', path.join(root, 'link-out'));
  symlinkSync('..', path.join(root, 'dir-out'));
  symlinkSync('sub/b.img', path.join(root, 'link-in'));
  symlinkSync('/etc/passwd', path.join(root, 'abs-out'));
});

const policy = () => ({ volumeRoot: root, deviceAllowlist: ['/dev/loop*'] });

async function outcome(p: string): Promise<{ ok: true; source: string } | { ok: false; code: string; path: unknown }> {
  try {
    const r = await resolveVolume(policy(), { driverVolumeType: 'file', path: p }, ['attachment', 'connectionInfo'], 'attachVolume');
    return { ok: true, source: r.source };
  } catch (e) {
    return { ok: false, code: (e as DriverError).code, path: (e as DriverError).issues?.[0]?.path };
  }
}

describe('volume path allowlist', () => {
  it('accepts files inside the root, including through a symlink that stays inside', async () => {
    expect(await outcome(path.join(root, 'a.img'))).toEqual({ ok: true, source: path.join(root, 'a.img') });
    expect(await outcome(path.join(root, 'ü.img'))).toEqual({ ok: true, source: path.join(root, 'ü.img') });
    expect(await outcome(path.join(root, 'link-in'))).toEqual({ ok: true, source: path.join(root, 'sub', 'b.img') });
  });

  it.each(['link-out', 'dir-out/outside.img', 'abs-out', 'sub', '.', 'missing.img'])('refuses %s with INVALID_INPUT naming the field', async (rel) => {
    const r = await outcome(path.join(root, rel));
    expect(r).toEqual({ ok: false, code: 'INVALID_INPUT', path: ['attachment', 'connectionInfo', 'path'] });
  });

  it('refuses paths outside the root, with .. segments, and unsupported transports', async () => {
    for (const p of ['/etc/passwd', path.join(sandbox, 'outside.img'), `${root}/../outside.img`, 'relative.img']) {
      expect((await outcome(p)).ok).toBe(false);
    }
    await expect(
      resolveVolume(policy(), { driverVolumeType: 'iscsi', targetPortal: '127.0.0.1:3260', targetIqn: 'iqn.2020-01.x:y', targetLun: 0 }, ['v'], 'spawn'),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('refuses block devices outside the root and the device allowlist', async () => {
    await expect(resolveVolume(policy(), { driverVolumeType: 'block', devicePath: '/dev/null' }, ['v'], 'spawn')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(matchesDeviceAllowlist(['/dev/loop*'], '/dev/loop3')).toBe(true);
    expect(matchesDeviceAllowlist(['/dev/loop3'], '/dev/loop30')).toBe(false);
  });

  it('property: whatever the path (.., ., symlinks, unicode), an accepted one resolves strictly inside the root', async () => {
    const segment = fc.oneof(
      fc.constantFrom('..', '.', '', 'a.img', 'ü.img', 'sub', 'b.img', 'link-out', 'dir-out', 'link-in', 'abs-out', 'outside.img', 'root'),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }).filter((s) => !s.includes('/') && !s.includes('\0')),
    );
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(segment, { maxLength: 6 }), async (fromRoot, segs) => {
        const p = (fromRoot ? root : sandbox) + '/' + segs.join('/');
        const r = await outcome(p);
        if (r.ok) {
          expect(isStrictlyInside(realpathSync(root), r.source)).toBe(true);
          expect(realpathSync(r.source)).toBe(r.source);
        } else {
          expect(r.code).toBe('INVALID_INPUT');
        }
      }),
      { numRuns: 400 },
    );
  });

  it('isStrictlyInside: the root itself and siblings sharing a prefix are outside', () => {
    expect(isStrictlyInside('/srv/vols', '/srv/vols')).toBe(false);
    expect(isStrictlyInside('/srv/vols', '/srv/vols2/a')).toBe(false);
    expect(isStrictlyInside('/srv/vols', '/srv/vols/a')).toBe(true);
    expect(isStrictlyInside('/srv/vols', '/srv/vols/..a')).toBe(true);
  });
});

describe('refusals that say why', () => {
  it('a volume path of / is refused as the host root directory, for file and block volumes', async () => {
    for (const conn of [
      { driverVolumeType: 'file' as const, path: '/' },
      { driverVolumeType: 'block' as const, devicePath: '//' },
    ]) {
      const err = await resolveVolume(policy(), conn, ['spec', 'blockDeviceInfo', 'volumes', 0, 'connectionInfo'], 'spawn').then(
        () => undefined,
        (e: unknown) => e as DriverError,
      );
      const field = conn.driverVolumeType === 'file' ? 'path' : 'devicePath';
      const what = conn.driverVolumeType === 'file' ? 'file' : 'block device';
      expect(err?.code).toBe('INVALID_INPUT');
      expect(err?.issues).toEqual([
        { path: ['spec', 'blockDeviceInfo', 'volumes', 0, 'connectionInfo', field], message: `is the host's root directory, not a ${what} inside the volume root` },
      ]);
    }
  });

  it('a volume root that a symlink leads to a system directory is refused naming config.volumeRoot', async () => {
    const sneaky = path.join(sandbox, 'sneaky-root');
    symlinkSync('/etc', sneaky);
    const err = await resolveVolume({ volumeRoot: sneaky, deviceAllowlist: [] }, { driverVolumeType: 'file', path: '/etc/hostname' }, ['attachment', 'connectionInfo'], 'attachVolume').then(
      () => undefined,
      (e: unknown) => e as DriverError,
    );
    expect(err?.code).toBe('INVALID_INPUT');
    expect(err?.issues).toEqual([
      { path: ['config', 'volumeRoot'], message: 'resolves to /etc, which contains the host system directory /etc (its files would be mountable volumes)' },
    ]);
  });

  it("a volume root over the engine's own root dir is refused", async () => {
    const err = await resolveVolume({ volumeRoot: root, deviceAllowlist: [], protectedDirs: [path.join(root, 'sub')] }, { driverVolumeType: 'file', path: path.join(root, 'a.img') }, ['attachment', 'connectionInfo'], 'attachVolume').then(
      () => undefined,
      (e: unknown) => e as DriverError,
    );
    expect(err?.issues?.[0]?.path).toEqual(['config', 'volumeRoot']);
    expect(err?.issues?.[0]?.message).toContain(`contains the host system directory ${path.join(root, 'sub')}`);
  });
});
