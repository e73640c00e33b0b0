import type { MigrationTarget } from '@nova-common/core';
import { isConflict, isNotFound, isUnavailable } from '../mapping/errors.js';
import { ownerFilter, phaseOfName } from '../mapping/labels.js';
import { migrationKeys, transferImage } from '../mapping/migration.js';
import type { EngineContext } from './context.js';
import { collectNetworks } from './networks.js';
import { removeStateImage } from './replace.js';

/**
 * Undoing, on the destination engine, a cold move that did not reach the switch (driver/migration.ts).
 * What the move made there carries the migration's id: its container under a temporary name, the networks
 * made or joined for its VIFs, the state image tagged for it, the transfer image. When the destination
 * engine is away (killed mid-load, mid-create), migrate still rejects at once with the instance on the
 * source, and this source keeps trying, every second for RETRY_FOR_MS, on its own connection to the
 * destination: once the engine is back the destination holds nothing of the move but its reservation
 * (R-MIGRATE-ROLLBACK). abortMigration on the destination removes the same things (and the reservation),
 * so a source that stops trying (its process ended, its deadline passed) leaves nothing abort misses.
 */

const RETRY_EVERY_MS = 1000;
const RETRY_FOR_MS = 10 * 60_000;

/** Undos still owed, per source driver and instance. */
const pending = new WeakMap<EngineContext, Map<string, PendingUndo>>();

interface PendingUndo {
  timer: ReturnType<typeof setInterval>;
  attempt: () => Promise<boolean>;
  end: () => Promise<void>;
}

/** Remove what the move of `target` made on `dest` (never the instance's own container, should it carry the id). */
export async function undoOnDestination(dest: EngineContext, target: MigrationTarget, touched: readonly string[]): Promise<void> {
  const label = [...ownerFilter(dest.naming, 'instance'), `${migrationKeys(dest.naming).migrationId}=${target.migrationId}`];
  const networks = new Set(touched);
  for (const c of await dest.client.listContainers({ label })) {
    if (phaseOfName(dest.naming, c.Names[0] ?? '')?.phase === 'instance') continue;
    for (const n of Object.keys(c.NetworkSettings?.Networks ?? {})) networks.add(n);
    try {
      await dest.client.removeContainer(c.Id);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  await collectNetworks(dest, [...networks]);
  await removeStateImage(dest, target.instanceUuid);
  try {
    await dest.client.removeImage(transferImage(dest.naming, target.instanceUuid, target.migrationId).ref);
  } catch (err) {
    if (!isNotFound(err) && !isConflict(err)) throw err;
  }
}

/**
 * Undo on the destination now; when its engine is away, keep trying in the background and answer false
 * (the caller then leaves `dest` open: `close` is called once the undo is done or given up). Other
 * failures are the best effort's end: abortMigration removes the rest.
 */
export async function undoOrRetry(source: EngineContext, dest: EngineContext, target: MigrationTarget, touched: readonly string[], close: () => Promise<void>): Promise<boolean> {
  const attempt = async (): Promise<boolean> => {
    try {
      await undoOnDestination(dest, target, touched);
      return true;
    } catch (err) {
      return !isUnavailable(err);
    }
  };
  if (await attempt()) return true;
  const uuid = target.instanceUuid;
  const byUuid = pending.get(source) ?? new Map<string, PendingUndo>();
  pending.set(source, byUuid);
  const deadline = Date.now() + RETRY_FOR_MS;
  let running = false;
  let ended = false;
  const entry: PendingUndo = {
    attempt,
    timer: setInterval(() => {
      if (running) return;
      running = true;
      void attempt().then(async (done) => {
        running = false;
        if (done || Date.now() > deadline) await entry.end();
      });
    }, RETRY_EVERY_MS),
    end: async () => {
      clearInterval(entry.timer);
      if (ended) return;
      ended = true;
      if (byUuid.get(uuid) === entry) byUuid.delete(uuid);
      await close().catch(() => undefined);
    },
  };
  entry.timer.unref?.();
  byUuid.set(uuid, entry);
  return false;
}

/** Before another migration of `uuid` from this source: one more try at what the last one owes, then no more background tries. */
export async function settleUndo(source: EngineContext, uuid: string): Promise<void> {
  const entry = pending.get(source)?.get(uuid);
  if (!entry) return;
  clearInterval(entry.timer);
  await entry.attempt();
  await entry.end();
}

/** The source driver closes (cleanupHost): one last try at each undo owed, then no more. */
export async function settleAllUndos(source: EngineContext): Promise<void> {
  for (const uuid of [...(pending.get(source)?.keys() ?? [])]) await settleUndo(source, uuid);
}
