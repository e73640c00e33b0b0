/** The image details Ironic 21.4 needs for non-Glance sources: checksum, image type, kernel/ramdisk. */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IronicDriverConfigSchema } from '../../src/config.js';
import { cachedSha256, ImageInputError, imageDetails, type ImageDetailOptions } from '../../src/mapping/image-source.js';

const dir = mkdtempSync(join(tmpdir(), 'nc-ironic-img-'));
const content = Buffer.from('a whole-disk image\n'.repeat(1000));
writeFileSync(join(dir, 'disk-1.img'), content);
const sha256 = createHash('sha256').update(content).digest('hex');
const file: ImageDetailOptions = { imageSourceTemplate: `file://${dir}/{id}.img`, images: {} };
const http: ImageDetailOptions = { imageSourceTemplate: 'http://images.example/{id}.img', images: {} };

async function issueOf(p: Promise<unknown>): Promise<{ path: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ImageInputError) return { path: e.issue.path.join('.'), message: e.issue.message };
    throw e;
  }
  throw new Error('expected an ImageInputError');
}

describe('image details', () => {
  it('a Glance source gets nothing (Ironic asks Glance)', async () => {
    expect(await imageDetails({ id: 'b8f0c9a2-1111-4222-8333-944445555666', diskFormat: 'qcow2' }, { imageSourceTemplate: '{id}', images: {} }, cachedSha256())).toEqual({});
  });

  it('file://: the SHA-256 of the file is computed, whole-disk by default', async () => {
    expect(await imageDetails({ id: 'disk-1', diskFormat: 'raw' }, file, cachedSha256())).toEqual({ image_os_hash_algo: 'sha256', image_os_hash_value: sha256, image_type: 'whole-disk' });
  });

  it('file://: the digest follows the file (the cache is keyed by size and modification time)', async () => {
    const digest = cachedSha256();
    expect(await digest(join(dir, 'disk-1.img'))).toBe(sha256);
    expect(await digest(join(dir, 'disk-1.img'))).toBe(sha256);
    writeFileSync(join(dir, 'disk-2.img'), 'one');
    const before = await digest(join(dir, 'disk-2.img'));
    writeFileSync(join(dir, 'disk-2.img'), 'two, longer');
    const after = await digest(join(dir, 'disk-2.img'));
    expect(after).toBe(createHash('sha256').update('two, longer').digest('hex'));
    expect(after).not.toBe(before);
  });

  it('file:// that cannot be read and has no configured checksum: INVALID_INPUT on spec.image.id', async () => {
    const i = await issueOf(imageDetails({ id: 'missing', diskFormat: 'raw' }, file, cachedSha256()));
    expect(i.path).toBe('spec.image.id');
    expect(i.message).toMatch(/ENOENT/);
  });

  it('a configured checksum wins over computing one (os hash pair first, else image_checksum)', async () => {
    const images = { 'disk-1': { osHashAlgo: 'sha512' as const, osHashValue: 'AB'.repeat(64) }, 'disk-2': { checksum: 'http://images.example/SHA256SUMS' } };
    const never = async () => {
      throw new Error('must not read the file');
    };
    expect(await imageDetails({ id: 'disk-1', diskFormat: 'raw' }, { ...file, images }, never)).toEqual({ image_os_hash_algo: 'sha512', image_os_hash_value: 'ab'.repeat(64), image_type: 'whole-disk' });
    expect(await imageDetails({ id: 'disk-2', diskFormat: 'raw' }, { ...http, images }, never)).toEqual({ image_checksum: 'http://images.example/SHA256SUMS', image_type: 'whole-disk' });
  });

  it('http(s) without a configured checksum: INVALID_INPUT naming config.images.<id>.osHashValue', async () => {
    const i = await issueOf(imageDetails({ id: 'web-1', diskFormat: 'qcow2' }, http, cachedSha256()));
    expect(i.path).toBe('config.images.web-1.osHashValue');
  });

  it('partition images (ami, or imageType): kernel and ramdisk sent; missing ones refused naming the field', async () => {
    const images = { 'fs-1': { checksum: 'c'.repeat(32), kernel: 'http://images.example/vmlinuz', ramdisk: 'http://images.example/initrd' } };
    expect(await imageDetails({ id: 'fs-1', diskFormat: 'ami' }, { ...http, images }, cachedSha256())).toEqual({
      image_checksum: 'c'.repeat(32),
      image_type: 'partition',
      kernel: 'http://images.example/vmlinuz',
      ramdisk: 'http://images.example/initrd',
    });
    expect((await issueOf(imageDetails({ id: 'fs-2', diskFormat: 'ami' }, { ...http, images: { 'fs-2': { checksum: 'c'.repeat(32) } } }, cachedSha256()))).path).toBe('config.images.fs-2.kernel');
    const noRamdisk = { 'fs-3': { checksum: 'c'.repeat(32), kernel: 'http://images.example/vmlinuz' } };
    expect((await issueOf(imageDetails({ id: 'fs-3', diskFormat: 'ami' }, { ...http, images: noRamdisk }, cachedSha256()))).path).toBe('config.images.fs-3.ramdisk');
  });

  it('a kernel or ramdisk image (aki, ari) is no root disk: INVALID_INPUT on spec.image.diskFormat', async () => {
    expect((await issueOf(imageDetails({ id: 'disk-1', diskFormat: 'aki' }, file, cachedSha256()))).path).toBe('spec.image.diskFormat');
  });

  it('config: a partition entry without kernel/ramdisk, an algo without its value, a digest of the wrong length are refused', () => {
    const bad = IronicDriverConfigSchema.safeParse({ images: { a: { imageType: 'partition' }, b: { osHashAlgo: 'sha256' }, c: { osHashAlgo: 'md5', osHashValue: 'ab'.repeat(32) } } });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.')).sort();
    expect(paths).toEqual(['images.a.kernel', 'images.a.ramdisk', 'images.b.osHashValue', 'images.c.osHashValue']);
  });
});
