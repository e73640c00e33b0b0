import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineClient } from '../src/client/engine-client.js';
import { ContainerDriverConfigSchema } from '../src/config.js';
import { containerName, labelKeys } from '../src/mapping/labels.js';
import { BASE_IMAGE, SOCKET, STATE_DIR, VOLUME_ROOT, requireEngine, testDriver, uuidv4 } from './helpers.js';

/**
 * A driver process killed in the middle of a spawn leaves a container under the spawning name.
 * The next driver session (a restarted compute service, or `nova-conformance sweep`, which
 * starts one) removes it at once when the process that made it has certainly died, without
 * waiting out spawnSweepAgeSeconds (5 minutes by default), and leaves it alone while that
 * process lives.
 */
const CHILD = fileURLToPath(new URL('./fixtures/spawn-then-hang.mjs', import.meta.url));
const OWNER = 'half-made';
let client: EngineClient;

beforeAll(async () => {
  client = await requireEngine();
});

afterAll(async () => {
  await client?.close();
});

async function childMidSpawn(uuid: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CHILD, SOCKET, VOLUME_ROOT, STATE_DIR, OWNER, uuid, BASE_IMAGE], { stdio: ['ignore', 'pipe', 'pipe'] });
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

/** A new driver session with the default sweep age: only the holder's death can make it remove the container now. */
async function sessionStart(): Promise<void> {
  const driver = testDriver(OWNER);
  await driver.initHost();
  await driver.cleanupHost();
}

/** The half-made container under the uuid's spawning name, or undefined once gone. */
async function spawning(uuid: string): Promise<{ id: string; holder: string | undefined } | undefined> {
  const { namePrefix, labelPrefix } = ContainerDriverConfigSchema.parse({ socketPath: SOCKET, volumeRoot: VOLUME_ROOT, ownerId: OWNER });
  const naming = { namePrefix, labelPrefix, ownerId: OWNER };
  try {
    const c = await client.inspectContainer(containerName(naming, uuid, 'spawning'));
    return { id: c.Id, holder: c.Config.Labels?.[labelKeys(naming).holder] };
  } catch {
    return undefined;
  }
}

describe('a spawn half made by a driver process that was killed', () => {
  it('is left alone while its process lives, and removed by the next session at once after the kill', async () => {
    const uuid = uuidv4();
    const child = await childMidSpawn(uuid);
    try {
      const made = await spawning(uuid);
      expect(made?.holder).toMatch(new RegExp(`^h1:[0-9a-f-]{36}:[0-9]+:${child.pid}:[0-9]+$`));
      await sessionStart();
      expect((await spawning(uuid))?.id).toBe(made!.id);
    } finally {
      await killed(child);
    }
    await sessionStart();
    expect(await spawning(uuid)).toBeUndefined();
  });
});
