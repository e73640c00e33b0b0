import { assertFits, DriverError, errors, expectedUsage, type CallOptions, type MigrationRequest, type MigrationTarget } from '@nova-common/core';
import { Flags } from '../client/protocol/remote-types.js';
import { DRIVER_NAME } from '../driver-name.js';
import { toContractError } from '../mapping/errors.js';
import { defaultMigrationUri, formatMigrationAddress } from '../mapping/migration-address.js';
import * as files from '../host-files.js';
import type { DriverContext } from './context.js';
import { identify } from './instances.js';
import { nodeInventory, readNodeFacts } from './inventory.js';
import * as book from './migration-book.js';
import { ensureReady } from './readiness.js';
import { refreshOwned, uuidTaken } from './records.js';
import { removeDomain } from './teardown.js';
import { claimedByLiveSpawn } from './spawn-claim.js';

/** This host's address in a target: its daemon for the source's libvirtd, its socket and instance directory for the source's driver. */
export function ownAddress(ctx: DriverContext): string {
  const { config } = ctx;
  return formatMigrationAddress({
    daemonUri: config.migrationAddress ?? defaultMigrationUri(config.uri, config.socketPath),
    socketPath: config.socketPath,
    openUri: config.uri,
    instancesDir: config.instancesDir,
    listen: config.migrationListenAddress,
  });
}

/**
 * What this driver does not do, refused before any input is judged (R-GEN-ORDER): on libvirt's
 * test driver (no guest runs there) nothing of migration, naming the most specific capability
 * the call needs: resize in place, live migration or migration.
 */
export function refuseUnsupported(ctx: DriverContext, op: string, target: string, call: { kind?: string; sameHost?: boolean } = {}): void {
  if (!ctx.hasFiles) {
    const capability = call.sameHost ? 'operation.resize-in-place' : call.kind === 'LIVE' ? 'operation.live-migrate' : 'operation.migrate';
    throw new DriverError('UNSUPPORTED', { op, target, capability, detail: "libvirt's test driver runs no guest to migrate" });
  }
}

/**
 * DESTINATION: check that this host can take the instance and reserve its flavor. Every check
 * comes before the reservation is written; a repeated prepare answers the same target.
 */
export async function prepareMigration(ctx: DriverContext, request: MigrationRequest, options?: CallOptions): Promise<MigrationTarget> {
  const op = 'prepareMigration';
  const uuid = request.instance.uuid.toLowerCase();
  // What the driver does not do is refused before any input is judged (R-GEN-ORDER).
  refuseUnsupported(ctx, op, uuid, request);
  const again = await book.readPrepared(ctx, request.migrationId);
  if (again !== undefined) {
    if (again.target.instanceUuid !== uuid) throw errors.invalidInput([{ path: ['request', 'migrationId'], message: 'already names a migration of another instance' }], op);
    return { ...again.target };
  }
  if (request.sourceDriver !== DRIVER_NAME) {
    throw errors.invalidInput([{ path: ['request', 'sourceDriver'], message: `must be ${DRIVER_NAME}: a libvirt host takes instances only from libvirt hosts` }], op);
  }
  await ensureReady(ctx, op);
  if (request.sameHost && request.kind === 'LIVE') {
    throw errors.invalidInput([{ path: ['request', 'kind'], message: 'a resize in place is COLD: the guest is stopped while its domain takes the new flavor' }], op);
  }
  const flavor = request.flavor ?? request.instance.flavor;
  const usage = expectedUsage(flavor);
  try {
    if (request.sameHost) {
      // A resize in place: the instance must be this host's; the new flavor must fit beside its current one.
      if ((await identify(ctx, uuid, options?.signal)) === undefined) throw errors.notFound(uuid, op);
    } else if (await uuidTaken(ctx, uuid, options?.signal)) {
      throw new DriverError('INSTANCE_EXISTS', { op, target: uuid, detail: 'a domain with this uuid is already on this host' });
    } else if (ctx.hasFiles && (await claimedByLiveSpawn(ctx.instanceDir(uuid)))) {
      // An abort would remove the directory: it is a spawn's, still making the instance.
      throw new DriverError('INSTANCE_EXISTS', { op, target: uuid, detail: 'a spawn of this uuid is in progress on this host' });
    }
    await refreshOwned(ctx, options?.signal);
    const node = ctx.node ?? (await readNodeFacts(ctx, options?.signal));
    const migrations = await book.reservedUsages(ctx);
    assertFits(usage, nodeInventory(ctx, node, [...ctx.owned.usages(), ...ctx.reservations.values(), ...migrations]), { op, target: uuid });
    const target: MigrationTarget = {
      migrationId: request.migrationId,
      kind: request.kind,
      driver: DRIVER_NAME,
      instanceUuid: uuid,
      node: ctx.nodeName,
      flavor,
      sameHost: request.sameHost,
      address: ownAddress(ctx),
    };
    await book.writePrepared(ctx, { target, usage, since: new Date().toISOString() });
    return { ...target };
  } catch (err) {
    throw toContractError(err, op, uuid);
  }
}

/**
 * Whether the instance is here as an instance of this host: its domain is persistent and this
 * driver's. An incoming domain is transient until libvirt finishes the migration (with
 * PERSIST_DEST); after a failed or aborted one libvirt tears it down, a moment later.
 */
async function isInstanceHere(ctx: DriverContext, op: string, uuid: string, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    const persistent = await ctx.client.listAllDomains(Flags.LIST_DOMAINS_PERSISTENT, signal ? { signal } : undefined);
    if (!persistent.some((d) => ctx.instanceUuidOf(d) === uuid)) return false;
    return (await identify(ctx, uuid, signal)) !== undefined; // ours; notes it in the owned tally
  } catch (err) {
    throw toContractError(err, op, uuid);
  }
}

/**
 * DESTINATION: the migration delivered its instance (migrate marked it so in this host's
 * books): its reservation becomes the instance's own usage. Idempotent.
 */
export async function finishMigration(ctx: DriverContext, migrationId: string): Promise<void> {
  const op = 'finishMigration';
  refuseUnsupported(ctx, op, migrationId);
  if (await book.isFinished(ctx, migrationId)) return;
  const prepared = await book.readPrepared(ctx, migrationId);
  if (prepared === undefined) throw new DriverError('INSTANCE_NOT_FOUND', { op, target: migrationId, detail: 'no migration is prepared here under this id' });
  if (await book.isRolledBack(ctx, migrationId)) {
    throw new DriverError('INSTANCE_NOT_FOUND', { op, target: migrationId, detail: 'the source rolled this migration back: abort it' });
  }
  if (prepared.delivered !== true) throw new DriverError('INSTANCE_NOT_FOUND', { op, target: migrationId, detail: 'the instance has not arrived: call migrate on the source first' });
  await book.markFinished(ctx, migrationId);
}

/**
 * DESTINATION: give up a migration that did not deliver: the reservation goes, and so do what
 * a failed move left here (files in the instance's directory, a domain the source rolled back).
 * A migration that delivered is refused (R-MIGRATE-ABORT). An instance that came here otherwise
 * (an evacuation, another migration) stays as it is. Idempotent.
 */
export async function abortMigration(ctx: DriverContext, migrationId: string, options?: CallOptions): Promise<void> {
  const op = 'abortMigration';
  refuseUnsupported(ctx, op, migrationId);
  const refuse = (): never => {
    throw new DriverError('INVALID_STATE', { op, target: migrationId, detail: 'R-MIGRATE-ABORT: the migration delivered its instance here; finish it (or destroy the instance)' });
  };
  if (await book.isFinished(ctx, migrationId)) refuse();
  const prepared = await book.readPrepared(ctx, migrationId);
  if (prepared === undefined) return;
  if (prepared.delivered === true) refuse();
  // A resize in place not done holds only its reservation (the instance and its files are the host's own and stay).
  if (prepared.target.sameHost) {
    await book.removePrepared(ctx, migrationId);
    return;
  }
  await ensureReady(ctx, op);
  const uuid = prepared.target.instanceUuid;
  // A domain the source defined here and then rolled back (migration-undo.ts) is a leftover, not an instance.
  if (await book.isRolledBack(ctx, migrationId)) await removeLeftover(ctx, op, uuid, options?.signal);
  // What is in the directory of an instance this host does not hold is what a failed move left.
  if (!(await isInstanceHere(ctx, op, uuid, options?.signal))) await files.removeTree(ctx.instanceDir(uuid));
  await book.removePrepared(ctx, migrationId);
}

/** The domain of a rolled-back move, when it is this driver's: stopped and undefined with its files. */
async function removeLeftover(ctx: DriverContext, op: string, uuid: string, signal: AbortSignal | undefined): Promise<void> {
  try {
    const found = await identify(ctx, uuid, signal);
    if (found !== undefined) await removeDomain(ctx, found.ref, uuid);
  } catch (err) {
    throw toContractError(err, op, uuid);
  }
}
