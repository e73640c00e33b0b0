import type { MigrationTarget } from '@nova-common/core';
import { VirErr, type DomainRef } from '../client/protocol/remote-types.js';
import { isLibvirtCode } from '../mapping/errors.js';
import type { MigrationAddress } from '../mapping/migration-address.js';
import { isActive } from '../mapping/state.js';
import * as files from '../host-files.js';
import type { DriverContext } from './context.js';
import * as book from './migration-book.js';
import { connectDestination, destinationAnswers } from './migration-peer.js';

/**
 * Undoing, on the destination, a cold move that did not finish (migration-cold.ts). The move
 * made two things there: the instance's directory (removed by the source at once: it is a path
 * of the shared instances directory) and the domain, defined through the destination's daemon.
 * When that daemon dies after the define and before its answer, the source cannot tell whether
 * the domain exists, and cannot remove it: libvirtd keeps a persistent definition across its
 * restart. So the source
 * - writes a rolled-back mark into the destination's books (migration-book.ts): the
 *   destination's abortMigration then removes the domain as a leftover, not as an instance
 *   that arrived (R-MIGRATE-ABORT would refuse that), and finishMigration refuses it;
 * - keeps trying, every second for RETRY_FOR_MS, to remove the domain itself: once the daemon is
 *   back the destination holds nothing of the move but its reservation (R-MIGRATE-ROLLBACK).
 * A source that stops trying (its process ended, its deadline passed) leaves nothing that the
 * destination's abort misses.
 */

const RETRY_EVERY_MS = 1000;
const RETRY_FOR_MS = 10 * 60_000;

/** Undefine with the managed save image and snapshot metadata (see teardown.ts). */
const UNDEFINE_ALL = 1 | 2;

/** Undos still owed, per source driver and instance. */
const pending = new WeakMap<DriverContext, Map<string, PendingUndo>>();

interface PendingUndo {
  timer: ReturnType<typeof setInterval>;
  attempt: () => Promise<boolean>;
  end: () => void;
}

/**
 * Remove the domain the move defined on the destination: the domain of the instance's uuid
 * under the name the source defined it with (anything else under that uuid is not this move's
 * and stays). Fine when it is not there.
 */
async function removeDefined(ctx: DriverContext, dest: MigrationAddress, uuid: string, name: string): Promise<void> {
  const client = await connectDestination(ctx, dest);
  try {
    let found: DomainRef;
    try {
      found = await client.lookupByUuid(uuid);
    } catch (err) {
      if (isLibvirtCode(err, VirErr.NO_DOMAIN)) return;
      throw err;
    }
    if (found.name !== name) return;
    if (isActive((await client.getState(found)).state)) await client.destroy(found);
    await client.undefine(found, UNDEFINE_ALL).catch((err: unknown) => {
      if (!isLibvirtCode(err, VirErr.NO_DOMAIN)) throw err;
    });
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * After a cold move failed with a domain defined (or perhaps defined) on the destination: the
 * directory goes, the domain is removed now or, while the destination's daemon is away, marked
 * rolled back and retried in the background. Never rejects: what is left, abortMigration removes.
 */
export async function undoColdMove(ctx: DriverContext, dest: MigrationAddress, destDir: string, target: MigrationTarget, name: string): Promise<void> {
  const uuid = target.instanceUuid;
  await files.removeTree(destDir).catch(() => undefined);
  const attempt = async (): Promise<boolean> => {
    try {
      await removeDefined(ctx, dest, uuid, name);
      return true;
    } catch {
      // A daemon that answers but refuses will refuse again: abortMigration is left to do it.
      return destinationAnswers(ctx, dest);
    }
  };
  await book.markRolledBack(dest.instancesDir, target.migrationId).catch(() => undefined);
  if (await attempt()) return;
  settle(ctx, uuid);
  const byUuid = pending.get(ctx) ?? new Map<string, PendingUndo>();
  pending.set(ctx, byUuid);
  const deadline = Date.now() + RETRY_FOR_MS;
  let running = false;
  const entry: PendingUndo = {
    attempt,
    timer: setInterval(() => {
      if (running) return;
      running = true;
      void attempt().then((done) => {
        running = false;
        if (done || Date.now() > deadline) entry.end();
      });
    }, RETRY_EVERY_MS),
    end: () => {
      clearInterval(entry.timer);
      if (byUuid.get(uuid) === entry) byUuid.delete(uuid);
    },
  };
  entry.timer.unref?.();
  byUuid.set(uuid, entry);
}

/** No more background tries for `uuid` (a newer undo of it takes over). */
function settle(ctx: DriverContext, uuid: string): void {
  pending.get(ctx)?.get(uuid)?.end();
}

/** Before another migration of `uuid` from this source: one more try at what the last one owes, then no more background tries. */
export async function settleUndo(ctx: DriverContext, uuid: string): Promise<void> {
  const entry = pending.get(ctx)?.get(uuid);
  if (!entry) return;
  entry.end();
  await entry.attempt();
}

/** The source driver closes (cleanupHost): one last try at each undo owed, then no more. */
export async function settleAllUndos(ctx: DriverContext): Promise<void> {
  for (const uuid of [...(pending.get(ctx)?.keys() ?? [])]) await settleUndo(ctx, uuid);
}
