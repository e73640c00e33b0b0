import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard, type GuardedDriver } from '@nova-common/core';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { GUEST_IMAGE_ID } from '../src/fixtures/conformance-fixtures.js';
import { GUEST_DIR, SOCKET, requireGuest, requireLibvirtd, waitUntil } from './helpers/backend.js';
import { guestSpec, qemuConfig, waitConsole } from './helpers/qemu.js';

/**
 * What a guest really gets, on QEMU under TCG with the project's tiny guest: an image in a
 * non-raw format (the guest's raw image converted to qcow2, then to vmdk) booted as raw, its root
 * disk grown to the flavor's, a formatted swap disk, its NIC on a bridge this test creates, and a
 * serial console log that virtlogd caps while the guest prints more than the cap and reboots.
 * The guest itself reports each disk's size and its NIC's MAC and MTU on its console.
 */

const run = promisify(execFile);
const IMAGES = `${GUEST_DIR}/images`;
const tag = randomBytes(3).toString('hex');
const BRIDGE = `ncbr${tag}`;
const TAP = `nctap${tag}`;
const IMAGE_ID = `nova-common-guest-${tag}.vmdk`;
const MAC = `fa:16:3e:${tag.slice(0, 2)}:${tag.slice(2, 4)}:${tag.slice(4, 6)}`;
const GIB = 1024 ** 3;
const SWAP_MB = 64;

/** virtlogd's cap on a log file (max_size in its configuration, 2 MiB by default) and how many rotated files it keeps. */
function virtlogdCap(): { maxSize: number; maxBackups: number } {
  const conf = existsSync('/etc/libvirt/virtlogd.conf') ? readFileSync('/etc/libvirt/virtlogd.conf', 'utf8') : '';
  const value = (key: string, fallback: number) => Number(/^\s*(\w+)\s*=\s*(\d+)/m.exec(conf.split('\n').filter((l) => l.trim().startsWith(key)).join('\n'))?.[2] ?? fallback);
  return { maxSize: value('max_size', 2 * 1024 * 1024), maxBackups: value('max_backups', 3) };
}
const cap = virtlogdCap();
/** The guest prints this many KiB at each boot: more than the cap, so virtlogd has to rotate. */
const FILL_KIB = Math.ceil(cap.maxSize / 1024) + 128;

let driver: GuardedDriver;
let uuid = '';
const instanceDir = () => `${GUEST_DIR}/instances/${uuid}`;

beforeAll(async () => {
  await requireLibvirtd('qemu:///system');
  requireGuest();
  await run('ip', ['link', 'add', 'name', BRIDGE, 'type', 'bridge']);
  await run('ip', ['link', 'set', BRIDGE, 'up']);
  const qcow2 = `${IMAGES}/.${tag}.qcow2`;
  await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', `${IMAGES}/${GUEST_IMAGE_ID}`, qcow2]);
  await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'vmdk', qcow2, `${IMAGES}/${IMAGE_ID}`]);
  await rm(qcow2, { force: true });
  driver = guard(createLibvirtDriver(qemuConfig('nova-guest-', { kernelArgs: `console=ttyS0 panic=-1 nova.fill=${FILL_KIB}` })));
  await driver.initHost();
});

afterAll(async () => {
  if (uuid) await driver?.destroy(uuid).catch(() => undefined);
  await driver?.cleanupHost();
  await run('ip', ['link', 'del', BRIDGE]).catch(() => undefined);
  await rm(`${IMAGES}/${IMAGE_ID}`, { force: true });
});

async function qemuImgInfo(path: string, format: string): Promise<{ format: string; 'virtual-size': number }> {
  return JSON.parse((await run('qemu-img', ['info', '-U', '-f', format, '--output=json', path])).stdout) as { format: string; 'virtual-size': number };
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

async function liveXml(): Promise<string> {
  const c = new LibvirtClient({ socketPath: SOCKET, uri: 'qemu:///system', keepaliveIntervalMs: 0 });
  await c.connect();
  try {
    return await c.getXmlDesc(await c.lookupByUuid(uuid));
  } finally {
    await c.close();
  }
}

/** The whole serial log, oldest first: virtlogd's rotated files (console.log.N ... .0), then console.log. */
async function wholeLog(): Promise<string> {
  const log = `${instanceDir()}/console.log`;
  const rotated = Array.from({ length: cap.maxBackups + 2 }, (_, i) => `${log}.${i}`).filter((p) => existsSync(p)).reverse();
  return (await Promise.all([...rotated, log].map((p) => readFile(p, 'latin1').catch(() => '')))).join('');
}

/** Wait until the log holds `count` boots and the last one reached READY. */
async function waitBoots(count: number): Promise<void> {
  await waitUntil(
    `boot ${count} reaching READY`,
    async () => {
      const text = await wholeLog();
      return (text.match(/NOVA-GUEST: BOOTED/g)?.length ?? 0) === count && /NOVA-GUEST: BOOTED(?![\s\S]*NOVA-GUEST: BOOTED)[\s\S]*NOVA-GUEST: READY/.test(text);
    },
    120_000,
    500,
  );
}

describe('a guest a user can run', () => {
  it('boots a vmdk image as a raw disk grown to the flavor, with a swap disk and its NIC on the bridge', async () => {
    expect((await qemuImgInfo(`${IMAGES}/${IMAGE_ID}`, 'vmdk')).format).toBe('vmdk');
    const spec = guestSpec({
      flavor: { id: 'small', name: 'small', vcpus: 1, memoryMb: 128, rootGb: 1, swapMb: SWAP_MB },
      image: { id: IMAGE_ID, diskFormat: 'vmdk', containerFormat: 'bare' },
      blockDeviceInfo: { swap: { sizeMb: SWAP_MB } },
      networkInfo: [{ id: randomUUID(), address: MAC.toUpperCase(), network: { id: 'net-guest', bridge: BRIDGE, mtu: 1400 }, devname: TAP }],
    });
    uuid = spec.uuid;
    await driver.spawn(spec);
    const boot = await waitConsole(driver, uuid, /NOVA-GUEST: READY/);

    // The guest sees its root disk at the flavor's size (1 GiB in 512-byte sectors), the swap at its size.
    expect(boot).toContain(`NOVA-GUEST: BLOCK+ vda sectors=${GIB / 512}`);
    expect(boot).toContain(`NOVA-GUEST: BLOCK+ vdb sectors=${(SWAP_MB * 1024 * 1024) / 512}`);
    // The instance's disk is the image converted to raw and grown; QEMU is told it reads raw.
    const disk = await qemuImgInfo(`${instanceDir()}/disk`, 'raw');
    expect(disk['virtual-size']).toBe(GIB);
    const xml = await liveXml();
    expect(xml).toMatch(/<driver name='qemu' type='raw' cache='(none' io='native|writeback)'\/>\s*<source file='[^']*\/disk'/);
    // The swap disk carries a swap signature (mkswap), read where the kernel looks for it.
    expect(await bytesAt(`${instanceDir()}/disk.swap`, 4096 - 10, 10)).toBe('SWAPSPACE2');

    // Its NIC: the guest sees its MAC and the network's MTU; the tap is on the test's bridge,
    // and the bridge learned the guest's MAC from the guest's own packets.
    expect(boot).toContain(`NOVA-GUEST: NET+ eth0 mac=${MAC} mtu=1400`);
    expect(basename(readlinkSync(`/sys/class/net/${TAP}/master`))).toBe(BRIDGE);
    expect(readFileSync(`/sys/class/net/${TAP}/mtu`, 'utf8').trim()).toBe('1400');
    await waitUntil(
      `the bridge ${BRIDGE} to learn ${MAC}`,
      async () => (await run('bridge', ['fdb', 'show', 'br', BRIDGE])).stdout.split('\n').some((l) => l.startsWith(`${MAC} dev ${TAP}`)),
      30_000,
      500,
    );
    // The rest of what a guest gets, in its live definition.
    expect(xml).toMatch(/<cpu mode='maximum'/);
    expect(xml).toMatch(/<entry name='uuid'>[^<]*<\/entry>/);
    expect(xml).toContain(`<entry name='uuid'>${uuid}</entry>`);
    expect(xml).toMatch(/<rng model='virtio'>\s*<backend model='random'>\/dev\/urandom<\/backend>/);
    expect(xml).toMatch(/<serial type='pty'>[\s\S]*<log file='[^']*console\.log' append='on'\/>/);
  });

  it('keeps the serial log under virtlogd cap while the guest prints more than the cap and reboots', async () => {
    expect(uuid).not.toBe('');
    const log = `${instanceDir()}/console.log`;
    await waitConsole(driver, uuid, /NOVA-GUEST: FILLED/, 400_000);
    // More than the cap was printed: virtlogd rotated the log and the file is still under the cap.
    expect(existsSync(`${log}.0`)).toBe(true);
    expect((await stat(log)).size).toBeLessThanOrEqual(cap.maxSize);
    // Every boot prints more than the cap again; the log keeps all of them, rotated, each file under the cap.
    let boots = (await wholeLog()).match(/NOVA-GUEST: BOOTED/g)?.length ?? 0;
    expect(boots).toBe(1);
    for (const hard of [true, false, true]) {
      await driver.reboot(uuid, hard ? 'HARD' : 'SOFT');
      await waitBoots(++boots);
    }
    const files = [log, ...Array.from({ length: cap.maxBackups + 2 }, (_, i) => `${log}.${i}`)].filter((p) => existsSync(p));
    const sizes = await Promise.all(files.map(async (p) => (await stat(p)).size));
    for (const size of sizes) expect(size).toBeLessThanOrEqual(cap.maxSize);
    expect(files.length).toBeLessThanOrEqual(cap.maxBackups + 1);
    // getConsoleOutput gives the log's tail and says older output was cut.
    const out = await driver.getConsoleOutput(uuid);
    expect(out.truncated).toBe(true);
    expect(out.output).toContain('NOVA-GUEST: ');
  }, 600_000);
});
