import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkVolumePath, resolveHostPath, type VolumePolicy } from '../src/volumes/paths.js';
import { isStrictlyInside } from '../src/volumes/rules.js';

/**
 * Volume paths checked against the allowlisted roots on a real directory tree: `..` and
 * symlinks resolved, escapes refused with the caller's field, the resolved path returned.
 *
 *   <tmp>/root/            the volume root
 *     a.img, dir/, sub/b.img
 *     escape -> ../outside/secret.img     escape-dir -> ../outside
 *     dangling -> ../outside/missing.img  dangling-dir -> <tmp>/nowhere
 *     back -> .  (a loop back into the root)   inst -> ../instances   img -> ../images/base.raw
 *   <tmp>/outside/secret.img   <tmp>/instances/<uuid>/disk   <tmp>/images/base.raw
 *   <tmp>/root-link -> root    <tmp>/etc-link -> /etc
 */
let tmp: string;
let root: string;
let policy: VolumePolicy;
const FIELD = ['spec', 'blockDeviceInfo', 'volumes', 0, 'connectionInfo', 'path'];

beforeAll(async () => {
  tmp = await realpath(await mkdtemp(join(tmpdir(), 'nova-volume-paths-')));
  root = join(tmp, 'root');
  await mkdir(join(root, 'dir'), { recursive: true });
  await mkdir(join(root, 'sub'));
  await mkdir(join(tmp, 'outside'));
  await mkdir(join(tmp, 'instances', 'u1'), { recursive: true });
  await mkdir(join(tmp, 'images'));
  await writeFile(join(root, 'a.img'), 'a');
  await writeFile(join(root, 'sub', 'b.img'), 'b');
  await writeFile(join(tmp, 'outside', 'secret.img'), 's');
  await writeFile(join(tmp, 'instances', 'u1', 'disk'), 'd');
  await writeFile(join(tmp, 'images', 'base.raw'), 'i');
  await symlink('../outside/secret.img', join(root, 'escape'));
  await symlink('../outside', join(root, 'escape-dir'));
  await symlink('../outside/missing.img', join(root, 'dangling'));
  await symlink(join(tmp, 'nowhere'), join(root, 'dangling-dir'));
  await symlink('.', join(root, 'back'));
  await symlink('../instances', join(root, 'inst'));
  await symlink('../images/base.raw', join(root, 'img'));
  await symlink('root', join(tmp, 'root-link'));
  await symlink('/etc', join(tmp, 'etc-link'));
  policy = { volumeRoots: [root], deviceAllowlist: [], imageDir: join(tmp, 'images'), instancesDir: join(tmp, 'instances') };
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function check(given: string, kind: 'file' | 'block' = 'file', over: Partial<VolumePolicy> = {}) {
  return checkVolumePath({ ...policy, ...over }, kind, given, FIELD);
}

describe('file volumes', () => {
  // Pinned outcomes: the resolved path (relative to <tmp>) or the refusal.
  const cases: [string, string | RegExp][] = [
    ['root/a.img', 'root/a.img'],
    ['root/new.img', 'root/new.img'],
    ['root/sub/b.img', 'root/sub/b.img'],
    ['root/missing-dir/new.img', 'root/missing-dir/new.img'],
    ['root//sub/./b.img', 'root/sub/b.img'],
    ['root/sub/../a.img', 'root/a.img'],
    ['root/back/back/a.img', 'root/a.img'],
    ['root-link/a.img', 'root/a.img'],
    ['root/../outside/secret.img', /outside the allowed volume roots/],
    ['root/escape', /outside the allowed volume roots/],
    ['root/escape-dir/secret.img', /outside the allowed volume roots/],
    ['root/escape-dir/new.img', /outside the allowed volume roots/],
    ['root/dangling', /symbolic link that does not resolve/],
    ['root/dangling-dir/x.img', /symbolic link that does not resolve/],
    ['root/missing-dir/../../outside/secret.img', /\.\. after a directory that does not exist/],
    ['root', /outside the allowed volume roots/],
    ['root/dir', /must be a regular file/],
    ['root/a.img/x', /cannot be resolved/],
    ['outside/secret.img', /outside the allowed volume roots/],
  ];
  it.each(cases)('%s -> %s', async (given, expected) => {
    // Not path.join: it would fold the `..` segments before the check sees them.
    const r = await check(`${tmp}/${given}`);
    if (typeof expected === 'string') expect(r).toEqual({ ok: true, path: join(tmp, expected) });
    else {
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.issue.path).toEqual(FIELD);
        expect(r.issue.message).toMatch(expected);
      }
    }
  });

  it('refuses host files whatever the root', async () => {
    for (const p of ['/etc/passwd', '/etc/shadow', '/proc/self/environ', '/root/.ssh/id_rsa', '/boot/vmlinuz', 'relative.img']) {
      expect((await check(p)).ok).toBe(false);
    }
  });

  it("refuses the driver's own files even under a root that reaches them", async () => {
    const wide = { volumeRoots: [tmp] };
    for (const p of ['instances/u1/disk', 'root/inst/u1/disk', 'instances/u2/new.img']) {
      expect(await check(join(tmp, p), 'file', wide)).toMatchObject({ ok: false, issue: { message: /instances directory/ } });
    }
    for (const p of ['images/base.raw', 'root/img', 'images/snapshot.raw']) {
      expect(await check(join(tmp, p), 'file', wide)).toMatchObject({ ok: false, issue: { message: /image directory/ } });
    }
    expect(await check(join(tmp, 'outside', 'secret.img'), 'file', wide)).toEqual({ ok: true, path: join(tmp, 'outside', 'secret.img') });
  });

  it('drops a root that resolves onto a host system directory (a symlink to /etc)', async () => {
    expect(await check(join(tmp, 'etc-link', 'passwd'), 'file', { volumeRoots: [join(tmp, 'etc-link')] })).toMatchObject({ ok: false, issue: { message: /outside the allowed volume roots/ } });
  });

  it('accepts a root given through a symlink, and any of several roots', async () => {
    expect(await check(join(root, 'a.img'), 'file', { volumeRoots: [join(tmp, 'root-link')] })).toEqual({ ok: true, path: join(root, 'a.img') });
    expect(await check(join(tmp, 'outside', 'secret.img'), 'file', { volumeRoots: [root, join(tmp, 'outside')] })).toEqual({ ok: true, path: join(tmp, 'outside', 'secret.img') });
  });

  it('only ever accepts paths that resolve strictly inside the root (property)', async () => {
    const realRoot = await realpath(root);
    const segment = fc.constantFrom('a.img', 'sub', 'b.img', 'dir', 'escape', 'escape-dir', 'dangling', 'dangling-dir', 'back', 'inst', 'img', '..', '.', 'missing', 'secret.img');
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 6 }), async (segments) => {
        const r = await check([root, ...segments].join('/'));
        if (r.ok) {
          expect(isStrictlyInside(realRoot, r.path)).toBe(true);
          expect(r.path).toBe(await realpath(r.path).catch(() => r.path));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('block volumes', () => {
  it('need the device allowlist (or a volume root), and a block device where the path exists', async () => {
    const field = ['attachment', 'connectionInfo', 'devicePath'];
    expect(await checkVolumePath(policy, 'block', '/dev/sda', field)).toMatchObject({ ok: false, issue: { path: field, message: /device allowlist/ } });
    expect(await checkVolumePath({ ...policy, deviceAllowlist: ['/dev/loop*'] }, 'block', '/dev/sda', field)).toMatchObject({ ok: false });
    expect(await checkVolumePath({ ...policy, deviceAllowlist: ['/dev/null'] }, 'block', '/dev/null', field)).toMatchObject({ ok: false, issue: { message: /must be a block device/ } });
    expect(await checkVolumePath({ ...policy, deviceAllowlist: ['/dev/nova-test-missing*'] }, 'block', '/dev/nova-test-missing0', field)).toEqual({ ok: true, path: '/dev/nova-test-missing0' });
    // A file volume is never let out by the device allowlist.
    expect(await checkVolumePath({ ...policy, deviceAllowlist: ['/dev/nova-test-missing*'] }, 'file', '/dev/nova-test-missing0', field)).toMatchObject({ ok: false });
  });
});

describe('resolveHostPath', () => {
  it('resolves the existing part through realpath and appends the rest', async () => {
    expect(await resolveHostPath(join(tmp, 'root-link', 'sub', 'new', 'x.img'))).toEqual({ path: join(root, 'sub', 'new', 'x.img'), exists: false });
    expect(await resolveHostPath(join(tmp, 'root-link', 'escape'))).toEqual({ path: join(tmp, 'outside', 'secret.img'), exists: true });
    expect(await resolveHostPath('/')).toEqual({ path: '/', exists: true });
  });
});
