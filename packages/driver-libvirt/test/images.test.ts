import { execFile } from 'node:child_process';
import { mkdtemp, open, rm, stat, writeFile, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskFormatSchema, ContainerFormatSchema } from '@nova-common/core';
import { diskPlan, instanceDiskFormat } from '../src/images/formats.js';
import { checkImage, makeRootDisk, makeSwapDisk, rootSizeIssue, type CheckedImage } from '../src/images/prepare.js';

/**
 * The image wall and the disks made from images, on real files made with qemu-img (installed
 * with the libvirt backend: scripts/backends/libvirt.sh install).
 */

const run = promisify(execFile);
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nova-images-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function image(name: string, format: string, sizeMb: number, options: string[] = []): Promise<string> {
  const path = join(dir, name);
  await run('qemu-img', ['create', '-q', '-f', format, ...options, path, `${sizeMb}M`]);
  return path;
}

async function virtualSize(path: string, format: string): Promise<number> {
  return (JSON.parse((await run('qemu-img', ['info', '-f', format, '--output=json', path])).stdout) as { 'virtual-size': number })['virtual-size'];
}

async function bytesAt(path: string, offset: number, length: number): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, offset);
    return buf.toString('latin1');
  } finally {
    await fh.close();
  }
}

describe('what each image format becomes (pinned)', () => {
  it('copies raw and qcow2, converts vmdk, vdi, vhd, vhdx to raw, refuses the rest naming the field', () => {
    const table = Object.fromEntries(DiskFormatSchema.options.map((f) => [f, diskPlan({ diskFormat: f, containerFormat: 'bare' })]));
    expect(Object.fromEntries(Object.entries(table).map(([f, p]) => [f, p.kind === 'refuse' ? `refuse ${p.field}` : p.kind === 'copy' ? `copy ${p.format}` : `convert ${p.from}->${p.format}`]))).toEqual({
      raw: 'copy raw',
      qcow2: 'copy qcow2',
      vmdk: 'convert vmdk->raw',
      vdi: 'convert vdi->raw',
      vhd: 'convert vpc->raw',
      vhdx: 'convert vhdx->raw',
      iso: 'refuse diskFormat',
      ploop: 'refuse diskFormat',
      aki: 'refuse diskFormat',
      ari: 'refuse diskFormat',
      ami: 'refuse diskFormat',
    });
  });

  it('accepts the bare and ovf containers only', () => {
    const accepted = ContainerFormatSchema.options.filter((c) => diskPlan({ diskFormat: 'raw', containerFormat: c }).kind !== 'refuse');
    expect(accepted).toEqual(['bare', 'ovf']);
    expect(diskPlan({ diskFormat: 'raw', containerFormat: 'ova' })).toMatchObject({ kind: 'refuse', field: 'containerFormat' });
  });

  it('tells QEMU the format of the instance disk: qcow2 stays qcow2, everything else is raw', () => {
    expect(DiskFormatSchema.options.map((f) => `${f}:${instanceDiskFormat(f)}`)).toEqual(['raw:raw', 'qcow2:qcow2', 'vmdk:raw', 'vdi:raw', 'iso:raw', 'ploop:raw', 'vhd:raw', 'vhdx:raw', 'aki:raw', 'ari:raw', 'ami:raw']);
  });
});

describe('the image wall on real files', () => {
  const field = ['spec', 'image'];

  it('accepts images in the formats they claim, with their virtual size', async () => {
    for (const [name, format, diskFormat] of [
      ['a.raw', 'raw', 'raw'],
      ['a.qcow2', 'qcow2', 'qcow2'],
      ['a.vmdk', 'vmdk', 'vmdk'],
      ['a.vdi', 'vdi', 'vdi'],
      ['a.vhd', 'vpc', 'vhd'],
      ['a.vhdx', 'vhdx', 'vhdx'],
    ] as const) {
      const checked = await checkImage(await image(name, format, 16), { diskFormat, containerFormat: 'bare' }, field);
      expect(checked.ok, name).toBe(true);
      if (checked.ok) expect(checked.image.virtualSize, name).toBeGreaterThanOrEqual(16 * MIB);
    }
  });

  it('refuses a file that is not what its format says (never probed), naming diskFormat', async () => {
    const raw = await image('b.raw', 'raw', 1);
    expect(await checkImage(raw, { diskFormat: 'qcow2', containerFormat: 'bare' }, field)).toMatchObject({ ok: false, issue: { path: ['spec', 'image', 'diskFormat'] } });
    // A raw image holding a qcow2 header is read as raw: its bytes, not the file it points at.
    const base = await image('base.raw', 'raw', 1);
    const overlay = await image('overlay.qcow2', 'qcow2', 1, ['-F', 'raw', '-b', base]);
    const asRaw = await checkImage(overlay, { diskFormat: 'raw', containerFormat: 'bare' }, field);
    expect(asRaw.ok).toBe(true);
    // The size of the file's bytes (a few hundred KiB of qcow2 metadata), not the 1 MiB the header claims.
    if (asRaw.ok) expect(asRaw.image.virtualSize).toBeLessThan(MIB);
  });

  it('refuses an image with a backing file (QEMU would open a host file the image names), naming the id', async () => {
    const base = await image('c-base.raw', 'raw', 1);
    const overlay = await image('c.qcow2', 'qcow2', 1, ['-F', 'raw', '-b', base]);
    expect(await checkImage(overlay, { diskFormat: 'qcow2', containerFormat: 'bare' }, field)).toMatchObject({ ok: false, issue: { path: ['spec', 'image', 'id'] } });
  });

  it('refuses a vmdk whose data lives in other files', async () => {
    const flat = await image('d.vmdk', 'vmdk', 1, ['-o', 'subformat=monolithicFlat']);
    expect(await checkImage(flat, { diskFormat: 'vmdk', containerFormat: 'bare' }, field)).toMatchObject({ ok: false, issue: { path: ['spec', 'image', 'diskFormat'] } });
  });

  it('refuses formats it cannot convert before reading the file', async () => {
    const missing = join(dir, 'does-not-exist');
    expect(await checkImage(missing, { diskFormat: 'ploop', containerFormat: 'bare' }, field)).toMatchObject({ ok: false, issue: { path: ['spec', 'image', 'diskFormat'] } });
    expect(await checkImage(missing, { diskFormat: 'raw', containerFormat: 'docker' }, field)).toMatchObject({ ok: false, issue: { path: ['spec', 'image', 'containerFormat'] } });
  });
});

describe('root and swap disks', () => {
  const checked = (format: 'raw' | 'qcow2', virtualSize: number): CheckedImage => ({ plan: { kind: 'copy', format }, virtualSize });

  it('an image bigger than the flavor root, or asking for more, is refused naming the field; rootGb 0 keeps the image size', () => {
    const f = ['spec', 'flavor', 'rootGb'];
    expect(rootSizeIssue(checked('raw', GIB + 1), 1, 0, f, "flavor's")).toMatchObject({ path: f });
    expect(rootSizeIssue(checked('raw', GIB), 1, 0, f, "flavor's")).toBeUndefined();
    expect(rootSizeIssue(checked('raw', MIB), 1, 2, f, "flavor's")).toMatchObject({ path: f });
    expect(rootSizeIssue(checked('raw', 5 * GIB), 0, 0, f, "flavor's")).toBeUndefined();
  });

  it('converts a vmdk to raw and grows it to the root size, keeping its content', async () => {
    const src = join(dir, 'e.raw');
    await writeFile(src, Buffer.concat([Buffer.from('NOVA-ROOT-CONTENT'), Buffer.alloc(MIB - 17)]));
    const vmdk = join(dir, 'e.vmdk');
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', src, vmdk]);
    const c = await checkImage(vmdk, { diskFormat: 'vmdk', containerFormat: 'bare' }, ['spec', 'image']);
    expect(c.ok).toBe(true);
    if (!c.ok) return;
    const disk = join(dir, 'inst', 'disk');
    await makeRootDisk(vmdk, disk, c.image, 1);
    expect(await virtualSize(disk, 'raw')).toBe(GIB);
    expect(await bytesAt(disk, 0, 17)).toBe('NOVA-ROOT-CONTENT');
  });

  it('grows a qcow2 copy to the root size, and leaves an image already that big as it is', async () => {
    const q = await image('f.qcow2', 'qcow2', 16);
    const disk = join(dir, 'inst', 'disk.qcow2');
    await makeRootDisk(q, disk, checked('qcow2', 16 * MIB), 1);
    expect(await virtualSize(disk, 'qcow2')).toBe(GIB);
    const r = join(dir, 'g.raw');
    await writeFile(r, '');
    await truncate(r, 2 * MIB);
    const disk2 = join(dir, 'inst', 'disk.raw');
    await makeRootDisk(r, disk2, checked('raw', 2 * MIB), 0);
    expect((await stat(disk2)).size).toBe(2 * MIB);
  });

  it('formats the swap disk as swap', async () => {
    const path = join(dir, 'inst', 'disk.swap');
    await makeSwapDisk(path, 8);
    expect((await stat(path)).size).toBe(8 * MIB);
    expect(await bytesAt(path, 4096 - 10, 10)).toBe('SWAPSPACE2');
  });
});
