import { readFile, rmdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { currentHolder, errors, holderIsGone } from '@nova-common/core';
import * as files from '../host-files.js';

/**
 * Which process is spawning an instance, written in the instance's directory.
 *
 * Several processes may drive one host and share its instances directory (an agent and an
 * operator's tool, a restarted agent beside the one still stopping). libvirt knows a uuid only
 * once its domain exists, and a spawn makes the instance's files and plugs its taps before
 * that: another process's destroy would find no domain and take them as what an interrupted
 * spawn or destroy left, and another process's spawn of the same uuid would write its disks
 * into the same directory. The claim closes both: a spawn takes it before it makes anything
 * (O_EXCL, so one spawn of a uuid wins), destroy leaves the files and taps of a uuid whose
 * claim's process lives, and a claim whose process has certainly died (core's holderIsGone)
 * is taken over. A claim that cannot be judged (another pid namespace) stays: such a spawn is
 * refused with INSTANCE_EXISTS rather than risk another's files.
 *
 * Two processes taking over the same dead claim at the same instant can both succeed; that
 * needs two spawns of one uuid racing after a third died mid-spawn, and libvirt still lets
 * only one of them define the domain (the other fails and removes what it made).
 */
export const SPAWN_CLAIM_FILE = 'spawn.claim';

/** Ends a claim: removes the claim file, and the directory too when the spawn failed and left it empty. */
export type Unclaim = (spawned: boolean) => Promise<void>;

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}

/**
 * Claim the spawn of `uuid` in `instanceDir` for this process. Throws INSTANCE_EXISTS when a
 * live process (or one this process cannot judge) holds the claim.
 */
export async function claimSpawn(instanceDir: string, uuid: string): Promise<Unclaim> {
  const path = join(instanceDir, SPAWN_CLAIM_FILE);
  const holder = currentHolder();
  for (let attempt = 0; attempt < 4; attempt++) {
    await files.ensureDir(instanceDir);
    try {
      await writeFile(path, holder, { flag: 'wx', mode: 0o600 });
      return async (spawned) => {
        await unlink(path).catch(() => undefined);
        // Only an empty directory goes: an existing instance's (a spawn refused as a duplicate) has its disks.
        if (!spawned) await rmdir(instanceDir).catch(() => undefined);
      };
    } catch (error) {
      // ENOENT: a failed spawn's cleanup removed the directory between ensureDir and the write.
      if (isCode(error, 'ENOENT')) continue;
      if (!isCode(error, 'EEXIST')) throw error;
    }
    const other = await readFile(path, 'utf8').catch((error: unknown) => (isCode(error, 'ENOENT') ? undefined : Promise.reject(error)));
    if (other === undefined) continue;
    if (!holderIsGone(other)) throw errors.exists(uuid, 'spawn');
    await unlink(path).catch(() => undefined);
  }
  throw errors.exists(uuid, 'spawn');
}

/** Whether a spawn of another live process (or one this process cannot judge) claims the directory. */
export async function claimedByLiveSpawn(instanceDir: string): Promise<boolean> {
  let holder: string;
  try {
    holder = await readFile(join(instanceDir, SPAWN_CLAIM_FILE), 'utf8');
  } catch (error) {
    if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) return false;
    throw error;
  }
  return !holderIsGone(holder);
}
