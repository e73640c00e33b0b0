import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guard } from '@nova-common/core';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { SOCKET, requireLibvirtd } from './helpers/backend.js';

/**
 * A driver process killed in the middle of a spawn leaves a half-made (transient) domain. The
 * next driver session on the host (a restarted compute service, or `nova-conformance sweep`,
 * which starts one) removes it at once when the process that made it has certainly died,
 * without waiting out staleSpawnMs (10 minutes by default), and leaves it alone while that
 * process lives.
 */
const URI = 'test:///default';
const CHILD = fileURLToPath(new URL('./helpers/spawn-then-hang.mjs', import.meta.url));
let keeper: LibvirtClient;

beforeAll(async () => {
  await requireLibvirtd(URI);
  keeper = new LibvirtClient({ socketPath: SOCKET, uri: URI, keepaliveIntervalMs: 0 });
  await keeper.connect();
});

afterAll(async () => {
  await keeper.close();
});

/** Start the child driver process and wait until its spawn is half made. */
async function childMidSpawn(uuid: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CHILD, SOCKET, URI, uuid, 'half-made-run'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('mid-spawn')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the child driver exited (${code}) before its spawn was half made: ${err}`)));
  });
  return child;
}

async function killed(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

async function sessionStart(): Promise<void> {
  // The default staleSpawnMs (600 s): only the holder's death can make the sweep remove it now.
  const driver = guard(createLibvirtDriver({ uri: URI, socketPath: SOCKET }));
  await driver.initHost();
  await driver.cleanupHost();
}

describe('a spawn half made by a driver process that was killed', () => {
  it('is left alone while its process lives, and removed by the next session at once after the kill', async () => {
    const uuid = randomUUID();
    const child = await childMidSpawn(uuid);
    try {
      const domain = await keeper.lookupByUuid(uuid);
      expect(domain.name).toMatch(new RegExp(`^nova-${uuid}-[0-9a-f]{8}$`));
      await sessionStart();
      expect((await keeper.lookupByUuid(uuid)).name).toBe(domain.name);
    } finally {
      await killed(child);
    }
    await sessionStart();
    await expect(keeper.lookupByUuid(uuid)).rejects.toMatchObject({ code: 42 });
  });
});
