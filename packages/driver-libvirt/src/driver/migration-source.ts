import { resolve } from 'node:path';
import { abortError, DriverError, errors, migrationCell, type CallOptions, type InputIssue, type MigrationTarget } from '@nova-common/core';
import { DRIVER_NAME } from '../driver-name.js';
import { toContractError } from '../mapping/errors.js';
import { parseMigrationAddress, type MigrationAddress } from '../mapping/migration-address.js';
import * as files from '../host-files.js';
import type { DriverContext } from './context.js';
import { load, type Loaded } from './instances.js';
import { coldMigrate } from './migration-cold.js';
import { destinationAnswers, destinationHolds } from './migration-peer.js';
import { resizeInPlace } from './migration-in-place.js';
import { refuseUnsupported } from './migration-destination.js';
import { liveMigrate, wasAborted } from './migration-live.js';
import { enterPhase, trackMigration } from './migration-progress.js';
import { settleUndo } from './migration-undo.js';
import * as book from './migration-book.js';
import { usesPlugs } from './plugs.js';
import { ensureReady } from './readiness.js';
import { removeDomain } from './teardown.js';

const op = 'migrate';

function invalid(path: (string | number)[], message: string): DriverError {
  return errors.invalidInput([{ path, message } satisfies InputIssue], op);
}

/**
 * SOURCE: move the instance to a prepared libvirt destination (R-MIGRATE-KIND, then
 * MIGRATION_SEMANTICS decide before anything moves). When it resolves the instance is on the
 * destination and nothing of it is left here; when it rejects it is here as before
 * (R-MIGRATE-ROLLBACK), CANCELLED when the signal aborted it.
 */
export async function migrate(ctx: DriverContext, uuid: string, target: MigrationTarget, options?: CallOptions): Promise<void> {
  const signal = options?.signal;
  // What the driver does not do is refused before any input is judged (R-GEN-ORDER).
  refuseUnsupported(ctx, op, uuid, target);
  if (target.driver !== DRIVER_NAME) throw invalid(['target', 'driver'], `must be ${DRIVER_NAME}: this source moves instances only to libvirt hosts`);
  if (target.instanceUuid.toLowerCase() !== uuid.toLowerCase()) throw invalid(['target', 'instanceUuid'], 'names another instance: the target was prepared for it');
  const dest = parseMigrationAddress(target.address);
  if (dest === undefined) throw invalid(['target', 'address'], 'is not the address of a libvirt destination (prepareMigration answers it)');
  const here = resolve(dest.instancesDir) === resolve(ctx.config.instancesDir);
  if (target.sameHost && (!here || dest.socketPath !== ctx.config.socketPath)) throw invalid(['target', 'sameHost'], 'is set but the target is another host');
  // R-MIGRATE-SELF: a move onto this very host is a resize in place, or nothing.
  if (!target.sameHost && here && dest.socketPath === ctx.config.socketPath) throw invalid(['target', 'sameHost'], 'is not set but the target is this host');
  if (!target.sameHost && here) {
    throw invalid(['target', 'address'], 'the destination keeps its instances in this host\'s instance directory: the two hosts would share the instance\'s files');
  }
  if (target.sameHost && target.kind === 'LIVE') throw invalid(['target', 'kind'], 'a resize in place is COLD');
  await ensureReady(ctx, op);
  let l;
  try {
    l = await load(ctx, uuid, signal);
  } catch (err) {
    throw toContractError(err, op, uuid);
  }
  if (l === undefined) throw errors.notFound(uuid, op);
  const cell = migrationCell(target.kind, l.semantic);
  if (cell.kind === 'error') throw new DriverError(cell.error, { op, target: uuid, detail: `${cell.rule}: ${cell.why}` });
  const from = l.record.flavor;
  const to = target.flavor;
  if (target.kind === 'LIVE' && (to.memoryMb !== from.memoryMb || to.vcpus !== from.vcpus || to.rootGb !== from.rootGb)) {
    throw invalid(['target', 'flavor'], 'a live migration keeps the flavor: resize with a cold migration');
  }
  if (!target.sameHost && usesPlugs(l.record)) {
    const capability = target.kind === 'LIVE' ? 'operation.live-migrate' : 'operation.migrate';
    throw new DriverError('UNSUPPORTED', { op, target: uuid, capability, detail: 'the instance has VIFs or volumes of the host plugs, which a move to another host does not carry yet' });
  }
  if (to.rootGb < from.rootGb) throw invalid(['target', 'flavor', 'rootGb'], `cannot shrink the root disk (${from.rootGb} GB)`);
  // The destination's books (the instances directory both hosts reach): the migration must be prepared there and not delivered.
  const prepared = target.sameHost ? undefined : await book.readPreparedIn(dest.instancesDir, target.migrationId);
  if (!target.sameHost && (prepared === undefined || prepared.delivered === true || prepared.target.instanceUuid !== l.record.uuid)) {
    throw invalid(['target', 'migrationId'], 'is not prepared on the destination (aborted, finished, or never prepared)');
  }
  if (!target.sameHost && (await destinationHolds(ctx, dest, l.record.uuid).catch((err: unknown) => Promise.reject(toContractError(err, op, uuid))))) {
    throw new DriverError('INSTANCE_EXISTS', { op, target: uuid, detail: 'R-MIGRATE-EXISTS: the destination has come to hold the instance since the prepare; both copies stay as they are' });
  }
  if (signal?.aborted) throw abortError(signal);
  // What an earlier, failed move of this instance still owes its destination is settled first.
  await settleUndo(ctx, l.record.uuid);
  const destDir = files.inside(dest.instancesDir, l.record.uuid);
  const untrack = trackMigration(ctx, uuid, target);
  try {
    await move(ctx, l, target, dest, destDir, prepared, signal);
  } finally {
    untrack();
  }
}

/** The move itself, once every check passed; the phases it reports (migration-progress.ts) follow it. */
async function move(ctx: DriverContext, l: Loaded, target: MigrationTarget, dest: MigrationAddress, destDir: string, prepared: book.PreparedMigration | undefined, signal: AbortSignal | undefined): Promise<void> {
  const uuid = l.record.uuid;
  try {
    if (prepared === undefined) await resizeInPlace(ctx, l, target, signal);
    else if (target.kind === 'LIVE') await liveMigrate(ctx, l, dest, destDir, signal);
    else await coldMigrate(ctx, l, dest, destDir, prepared, signal);
  } catch (err) {
    if (signal?.aborted) throw new DriverError('CANCELLED', { op, target: uuid, detail: 'the migration was cancelled; the instance stays on this host', cause: err });
    if (wasAborted(err)) throw new DriverError('CANCELLED', { op, target: uuid, detail: 'the migration job was aborted; the instance stays on this host', cause: err });
    // A lost peer: libvirtd reports it in its own words (an operation failure); what matters is
    // that the destination's daemon went away, which the caller can retry once it is back.
    if (!(err instanceof DriverError) && !target.sameHost && !(await destinationAnswers(ctx, dest))) {
      const detail = `the destination's libvirtd cannot be reached; the instance stays on this host (${err instanceof Error ? err.message : String(err)})`;
      throw new DriverError('BACKEND_UNAVAILABLE', { op, target: uuid, detail, cause: err });
    }
    throw toContractError(err, op, uuid);
  }
  enterPhase(ctx, uuid, 'CLEANING');
  if (prepared !== undefined && target.kind === 'LIVE') {
    // The guest runs on the destination: its reservation there is now its usage. Should the mark
    // fail to write, the reservation stays counted there (and finish refuses) until the migration is aborted.
    await book.markDeliveredIn(dest.instancesDir, prepared).catch(() => undefined);
    // libvirt undefined the source's domain (UNDEFINE_SOURCE); its files are removed here. The
    // instance has moved whatever happens now, so a failure leaves files behind, not an error.
    await removeDomain(ctx, l.ref, uuid).catch(() => undefined);
  }
}
