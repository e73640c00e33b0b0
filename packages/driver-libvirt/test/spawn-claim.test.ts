import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentHolder } from '@nova-common/core';
import { claimedByLiveSpawn, claimSpawn, SPAWN_CLAIM_FILE } from '../src/driver/spawn-claim.js';

const UUID = '0b8f7a6e-5d4c-4b3a-9f2e-1d0c9b8a7f6e';
let root: string;
let dir: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'spawn-claim-'));
  dir = join(root, UUID);
});
afterEach(() => rm(root, { recursive: true, force: true }));

/** A holder of this boot and pid namespace whose process has certainly died (a start time no live process has). */
function deadHolder(): string {
  const parts = currentHolder().split(':');
  parts[4] = '1';
  return parts.join(':');
}

describe('the spawn claim', () => {
  it('is this process’s holder in the instance directory, and a second claim of the uuid is INSTANCE_EXISTS', async () => {
    const unclaim = await claimSpawn(dir, UUID);
    expect(await readFile(join(dir, SPAWN_CLAIM_FILE), 'utf8')).toBe(currentHolder());
    await expect(claimSpawn(dir, UUID)).rejects.toMatchObject({ code: 'INSTANCE_EXISTS' });
    expect(await claimedByLiveSpawn(dir)).toBe(true);
    await unclaim(true);
    expect(existsSync(join(dir, SPAWN_CLAIM_FILE))).toBe(false);
    expect(await claimedByLiveSpawn(dir)).toBe(false);
  });

  it('a failed spawn’s unclaim removes the directory it made, never one holding files', async () => {
    await (await claimSpawn(dir, UUID))(false);
    expect(existsSync(dir)).toBe(false);
    await mkdir(dir);
    await writeFile(join(dir, 'disk'), 'an existing instance');
    await (await claimSpawn(dir, UUID))(false);
    expect(await readFile(join(dir, 'disk'), 'utf8')).toBe('an existing instance');
    expect(existsSync(join(dir, SPAWN_CLAIM_FILE))).toBe(false);
  });

  it('a claim whose process died is taken over; one that cannot be judged is not', async () => {
    await mkdir(dir);
    await writeFile(join(dir, SPAWN_CLAIM_FILE), deadHolder());
    expect(await claimedByLiveSpawn(dir)).toBe(false);
    const unclaim = await claimSpawn(dir, UUID);
    expect(await readFile(join(dir, SPAWN_CLAIM_FILE), 'utf8')).toBe(currentHolder());
    await unclaim(true);
    // Another pid namespace's holder (or an unreadable one): never judged dead.
    await writeFile(join(dir, SPAWN_CLAIM_FILE), 'h1:another-boot:1:2:3');
    expect(await claimedByLiveSpawn(dir)).toBe(true);
    await expect(claimSpawn(dir, UUID)).rejects.toMatchObject({ code: 'INSTANCE_EXISTS' });
  });

  it('no directory, no claim', async () => {
    expect(await claimedByLiveSpawn(dir)).toBe(false);
  });
});
