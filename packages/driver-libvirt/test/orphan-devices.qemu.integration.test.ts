import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard, type GuardedDriver } from '@nova-common/core';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { LibvirtDriverConfigSchema } from '../src/config.js';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { libvirtConformanceFixtures } from '../src/fixtures/conformance-fixtures.js';
import { SOCKET, requireGuest, requireLibvirtd } from './helpers/backend.js';
import { guestSpec, qemuConfig } from './helpers/qemu.js';

/**
 * libvirtd killed in the middle of a disk hot-plug leaves QEMU holding the disk's block nodes
 * (and its guest device) that libvirtd, once restarted, does not know: every later attach then
 * failed on QEMU's "Duplicate nodes"/"Duplicate device". The driver removes such orphans and
 * attaches. The kill is timed: the test tries kill points until one leaves an orphan in QEMU
 * (seen through QEMU's own monitor), then checks that the retried attach converges.
 */
const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../../scripts/backends/libvirt.sh', import.meta.url));
const PID_FILE = '/tmp/nova-common/libvirt/libvirtd.pid';
const config = LibvirtDriverConfigSchema.parse(qemuConfig('orph-', { callTimeoutMs: 10_000, keepaliveIntervalMs: 500, keepaliveCount: 3 }));
const fixtures = libvirtConformanceFixtures(config);
const made: string[] = [];

beforeAll(async () => {
  await requireLibvirtd('qemu:///system');
  requireGuest();
});

afterAll(async () => {
  await run(SCRIPT, ['start'], { timeout: 90_000 });
  const d = guard(createLibvirtDriver(config));
  await d.initHost();
  for (const uuid of made) await d.destroy(uuid).catch(() => undefined);
  await d.cleanupHost();
  await fixtures.cleanup?.();
});

async function session(): Promise<GuardedDriver> {
  for (let i = 0; ; i++) {
    const d = guard(createLibvirtDriver(config));
    try {
      await d.initHost();
      return d;
    } catch (err) {
      if (i > 40) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Disk block nodes QEMU holds that the domain's live XML does not name. */
async function orphanNodes(uuid: string): Promise<string[]> {
  const client = new LibvirtClient({ socketPath: SOCKET, uri: 'qemu:///system', keepaliveIntervalMs: 0 });
  await client.connect();
  try {
    const dom = await client.lookupByUuid(uuid);
    const xml = await client.getXmlDesc(dom, 0);
    const indices = new Set([...xml.matchAll(/ index='(\d+)'/g)].map((m) => m[1]));
    const answer = JSON.parse(await client.qemuMonitorCommand(dom, JSON.stringify({ execute: 'query-named-block-nodes', arguments: { flat: true } }))) as { return: { 'node-name': string }[] };
    return answer.return.map((n) => n['node-name']).filter((n) => /^libvirt-\d+-/.test(n) && !indices.has(/^libvirt-(\d+)-/.exec(n)![1]));
  } finally {
    await client.close();
  }
}

describe('a disk hot-plug cut short by libvirtd dying', () => {
  it('leaves orphans in QEMU that the next attach removes, and the attach converges', async () => {
    let orphaned: { uuid: string; volume: { volumeId: string; connectionInfo: never } } | undefined;
    for (let delay = 10; delay <= 80 && orphaned === undefined; delay += 5) {
      const d = await session();
      const s = guestSpec();
      made.push(s.uuid);
      await d.spawn(s);
      const volumeId = crypto.randomUUID();
      const volume = { volumeId, connectionInfo: (await fixtures.volumeConnection!(volumeId)) as never };
      const attaching = d.attachVolume(s.uuid, volume).catch(() => undefined);
      await new Promise((r) => setTimeout(r, delay));
      process.kill(Number(readFileSync(PID_FILE, 'utf8').trim()), 'SIGKILL');
      await attaching;
      await run(SCRIPT, ['start'], { timeout: 90_000 });
      await d.cleanupHost().catch(() => undefined);
      const attached = (await (await session()).getInfo(s.uuid)).volumes.length > 0;
      if (!attached && (await orphanNodes(s.uuid)).length > 0) orphaned = { uuid: s.uuid, volume };
    }
    expect(orphaned, 'no kill point between 10 and 80 ms left an orphaned disk in QEMU').toBeDefined();
    const d = await session();
    await d.attachVolume(orphaned!.uuid, orphaned!.volume);
    expect((await d.getInfo(orphaned!.uuid)).volumes.map((v) => v.volumeId)).toEqual([orphaned!.volume.volumeId]);
    // The orphans went; QEMU holds the nodes of the attached disk only, all named in the XML.
    expect(await orphanNodes(orphaned!.uuid)).toEqual([]);
    await d.cleanupHost();
  }, 600_000);
});
