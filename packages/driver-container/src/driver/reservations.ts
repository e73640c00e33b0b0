import { createHash } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DriverError, assertFits, errors, expectedUsage, type MigrationRequest, type MigrationTarget } from '@nova-common/core';
import { createVolume, inspectVolume, removeVolume } from '../client/transfer.js';
import { DRIVER_NAME } from '../driver-name.js';
import { assertHonouredExtraSpecs } from '../mapping/extra-specs.js';
import { isNotFound } from '../mapping/errors.js';
import { containerName, isOwned, ownerFilter, phaseOfName } from '../mapping/labels.js';
import { deliveredLabels, deliveredName, encodeAddress, finishedName, migrationKeys, reservationLabels, reservationName, targetOfReservation, transferImage } from '../mapping/migration.js';
import { removeOwnedContainer } from './cleanup.js';
import type { EngineContext } from './context.js';
import { storedVolume } from './devices.js';
import { locate } from './instances.js';
import { nodeInventory } from './inventory.js';
import { collectNetworks } from './networks.js';
import { PLUGGED_MIGRATION, plugsConfigured } from './plugs.js';
import { removeStateImage } from './replace.js';

/**
 * The destination's side of a migration: prepare checks and reserves, finish and abort close the
 * books. Nothing is kept in the driver object: a prepared migration is an engine volume labelled with
 * its target (mapping/migration.ts), and an arrived instance is a container under the instance name
 * carrying the migration's id, so a new driver object, or another process on the same engine, answers
 * the same. The engine rather than a state file: the source checks the reservation through the socket
 * it migrates to, and a file would be one more thing to keep in step with the engine. Only a finished
 * migration, which has nothing left in the engine, is marked by a file (finishedPath).
 */

/** The address a source reaches this engine and makes containers for this driver with. */
export function addressOf(ctx: EngineContext): string {
  const { config } = ctx;
  return encodeAddress({
    v: 1,
    socket: config.socketPath,
    namePrefix: config.namePrefix,
    labelPrefix: config.labelPrefix,
    ownerId: config.ownerId,
    init: config.init,
    stopTimeoutSeconds: config.stopTimeoutSeconds,
    pidsLimit: config.pidsLimit,
    cpus: ctx.host.cpus,
    engine: ctx.differences.kind,
    apiVersion: ctx.client.apiVersion ?? '1.41',
  });
}

/** The target a prepared migration answered, while it is prepared here. */
export async function reservationOf(ctx: EngineContext, migrationId: string, signal?: AbortSignal): Promise<MigrationTarget | undefined> {
  try {
    const v = await inspectVolume(ctx.client, reservationName(ctx.naming, migrationId), signal);
    return targetOfReservation(ctx.naming, v.Labels);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Whether the migration delivered its instance here: its delivered mark is on this engine, or (a
 * move whose mark could not be made) a container of this driver under the instance name carries its id.
 */
export async function isDelivered(ctx: EngineContext, migrationId: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await inspectVolume(ctx.client, deliveredName(ctx.naming, migrationId), signal);
    return true;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  return (await arrivedContainer(ctx, migrationId, signal)) !== undefined;
}

/** SOURCE, on the destination's engine: the instance carries its name there (mapping/migration.ts deliveredName). */
export async function markDelivered(dest: EngineContext, migrationId: string, signal?: AbortSignal): Promise<void> {
  await createVolume(dest.client, deliveredName(dest.naming, migrationId), deliveredLabels(dest.naming, migrationId), signal);
}

/** The container of this driver carrying `migrationId` under an instance name: the instance arrived. */
export async function arrivedContainer(ctx: EngineContext, migrationId: string, signal?: AbortSignal): Promise<string | undefined> {
  const label = [...ownerFilter(ctx.naming, 'instance'), `${migrationKeys(ctx.naming).migrationId}=${migrationId}`];
  const found = (await ctx.client.listContainers({ label }, signal)).find((c) => phaseOfName(ctx.naming, c.Names[0] ?? '')?.phase === 'instance');
  return found?.Id;
}

const invalid = (path: (string | number)[], message: string) => errors.invalidInput([{ path, message }], 'prepareMigration');

export async function prepareMigration(ctx: EngineContext, request: MigrationRequest, signal?: AbortSignal): Promise<MigrationTarget> {
  const op = 'prepareMigration';
  // R-GEN-ORDER: UNSUPPORTED before any other check.
  if (request.kind === 'LIVE') throw new DriverError('UNSUPPORTED', { op, capability: 'operation.live-migrate', detail: LIVE_MISSING });
  if (!request.sameHost && plugsConfigured(ctx)) throw new DriverError('UNSUPPORTED', { op, capability: 'operation.migrate', detail: PLUGGED_MIGRATION });
  const uuid = request.instance.uuid;
  await ctx.removals.flush(signal);
  const again = await reservationOf(ctx, request.migrationId, signal);
  if (again !== undefined) {
    if (again.instanceUuid !== uuid) throw invalid(['request', 'migrationId'], 'already names a migration of another instance');
    return again;
  }
  if (request.sourceDriver !== DRIVER_NAME) {
    throw invalid(['request', 'sourceDriver'], `must be ${DRIVER_NAME}: a container host takes instances only from container hosts`);
  }
  const flavor = request.flavor ?? request.instance.flavor;
  assertHonouredExtraSpecs(flavor, op);
  // The destination mounts the same host paths: they must pass this driver's own volume rules (with a volume
  // connector, only a resize in place comes here: its volumes stay connected as they are).
  for (const [i, v] of ctx.volumeConnector === undefined ? request.instance.blockDeviceInfo.volumes.entries() : []) {
    await storedVolume(ctx, v, ['request', 'instance', 'blockDeviceInfo', 'volumes', i, 'connectionInfo'], op);
  }
  const here = await locate(ctx, uuid, signal);
  if (request.sameHost && here === undefined) throw errors.notFound(uuid, op);
  if (!request.sameHost && here !== undefined) {
    throw new DriverError('INSTANCE_EXISTS', { op, target: uuid, detail: 'the instance is already on this host' });
  }
  // Beside what is here (for a resize in place: beside the current flavor, as the reference does).
  assertFits(expectedUsage(flavor), await nodeInventory(ctx, signal), { op, target: ctx.host.node });
  const target: MigrationTarget = {
    migrationId: request.migrationId,
    kind: request.kind,
    driver: DRIVER_NAME,
    instanceUuid: uuid,
    node: ctx.host.node,
    flavor,
    sameHost: request.sameHost,
    address: addressOf(ctx),
  };
  await createVolume(ctx.client, reservationName(ctx.naming, request.migrationId), reservationLabels(ctx.naming, target), signal);
  return target;
}

/**
 * Where this engine's finished migrations are marked: a file per migration id under the driver's
 * state directory (`<stateDir>/finished-migrations/<engine socket digest>/<owner>/`), kept like
 * the stop records, because a finished migration has nothing left in the engine to carry it.
 */
function finishedPath(ctx: EngineContext, migrationId: string): string {
  const engine = createHash('sha256').update(ctx.config.socketPath).digest('hex').slice(0, 16);
  return path.join(ctx.config.stateDir, 'finished-migrations', engine, ctx.config.ownerId, finishedName(ctx.naming, migrationId));
}

/** Whether the migration was finished here. */
async function isFinished(ctx: EngineContext, migrationId: string): Promise<boolean> {
  try {
    await stat(finishedPath(ctx, migrationId));
    return true;
  } catch {
    return false;
  }
}

async function markFinished(ctx: EngineContext, migrationId: string): Promise<void> {
  const file = finishedPath(ctx, migrationId);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, new Date().toISOString());
}

export async function finishMigration(ctx: EngineContext, migrationId: string, signal?: AbortSignal): Promise<void> {
  // Finished already (also when the instance has left again since): idempotent.
  if (await isFinished(ctx, migrationId)) return;
  const reserved = await reservationOf(ctx, migrationId, signal);
  refuseUnlessResize(ctx, 'finishMigration', migrationId, reserved);
  if (!(await isDelivered(ctx, migrationId, signal))) {
    throw new DriverError('INSTANCE_NOT_FOUND', {
      op: 'finishMigration',
      target: migrationId,
      detail: reserved === undefined ? 'no migration is prepared here under this id' : 'the instance has not arrived: call migrate on the source first',
    });
  }
  // Finished already when there is no reservation left (a finish from before the marker): idempotent.
  if (reserved === undefined) return;
  // The marker first, then the reservation goes: a finish cut between the two is finished.
  await markFinished(ctx, migrationId);
  await dropReservation(ctx, migrationId);
}

export async function abortMigration(ctx: EngineContext, migrationId: string, signal?: AbortSignal): Promise<void> {
  if ((await isFinished(ctx, migrationId)) || (await isDelivered(ctx, migrationId, signal))) {
    throw new DriverError('INVALID_STATE', {
      op: 'abortMigration',
      target: migrationId,
      detail: 'R-MIGRATE-ABORT: the migration delivered its instance here; finish it (or destroy the instance)',
    });
  }
  const reserved = await reservationOf(ctx, migrationId, signal);
  refuseUnlessResize(ctx, 'abortMigration', migrationId, reserved);
  if (reserved === undefined) return;
  // From here to the end whatever the signal says: half a cleanup would leave what abort exists to remove.
  await removeHalfArrived(ctx, reserved);
  await dropReservation(ctx, migrationId);
}

/**
 * What a migrate that did not complete (or is given up) left here: its container under a temporary name,
 * the networks made or joined for its VIFs that nothing else uses now (a source whose rollback found this
 * engine away could not remove them), its images.
 */
async function removeHalfArrived(ctx: EngineContext, target: MigrationTarget): Promise<void> {
  const label = [...ownerFilter(ctx.naming, 'instance'), `${migrationKeys(ctx.naming).migrationId}=${target.migrationId}`];
  const networks = new Set<string>();
  for (const c of await ctx.client.listContainers({ label })) {
    if (c.Names[0]?.replace(/^\//, '') === containerName(ctx.naming, target.instanceUuid)) continue;
    const inspect = await ctx.client.inspectContainer(c.Id).catch(() => undefined);
    if (!inspect || !isOwned(ctx.naming, inspect.Config.Labels, 'instance')) continue;
    for (const n of Object.keys(inspect.NetworkSettings.Networks ?? {})) networks.add(n);
    await removeOwnedContainer(ctx, inspect);
  }
  await collectNetworks(ctx, [...networks]);
  if (target.sameHost) return;
  // Not for a resize in place: the state image there may be the instance's own.
  await removeStateImage(ctx, target.instanceUuid);
  try {
    await ctx.client.removeImage(transferImage(ctx.naming, target.instanceUuid, target.migrationId).ref);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** The reservation goes, and with it the delivered mark (a finish after the instance arrived). */
async function dropReservation(ctx: EngineContext, migrationId: string): Promise<void> {
  for (const name of [deliveredName(ctx.naming, migrationId), reservationName(ctx.naming, migrationId)]) {
    try {
      await removeVolume(ctx.client, name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

/** Why operation.live-migrate is declared missing (README, capabilities). */
export const LIVE_MISSING =
  "Live migration needs checkpoint/restore (CRIU). Debian 12's CRIU 3.17 fails on kernels from 6.13 on ('vdso: Unexpected rt vDSO area bounds', fixed in CRIU 4.x), this kernel lacks CONFIG_MEM_SOFT_DIRTY (no iterative pre-copy), dockerd needs --experimental for checkpoints and podman 4.3's compatible API has no checkpoint endpoints. Cold migration (operation.migrate) is offered instead.";

/**
 * With plugs configured only resizes in place are prepared here (operation.migrate is missing): a finish
 * or an abort of any other migration id is UNSUPPORTED.
 */
function refuseUnlessResize(ctx: EngineContext, op: string, migrationId: string, reserved: MigrationTarget | undefined): void {
  if (!plugsConfigured(ctx) || reserved?.sameHost === true) return;
  throw new DriverError('UNSUPPORTED', { op, target: migrationId, capability: 'operation.migrate', detail: PLUGGED_MIGRATION });
}
