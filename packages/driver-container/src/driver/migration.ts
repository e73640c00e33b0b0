import { Readable } from 'node:stream';
import { DriverError, errors, migrationCell, type MigrationTarget, type SemanticState, type Vif } from '@nova-common/core';
import { loadImage, saveImage, tagImage } from '../client/transfer.js';
import { ContainerDriverConfigSchema } from '../config.js';
import { DRIVER_NAME } from '../driver-name.js';
import { differencesOf } from '../mapping/engine-kind.js';
import { isNotFound } from '../mapping/errors.js';
import { pidsLimitOf } from '../mapping/extra-specs.js';
import { containerName, type InstanceLabels } from '../mapping/labels.js';
import { decodeAddress, handedOverName, loadError, migrationKeys, transferImage, type MigrationAddress } from '../mapping/migration.js';
import { vifOfEndpoint } from '../mapping/networks.js';
import { removeOwnedContainer } from './cleanup.js';
import { settleUndo, undoOrRetry } from './migration-undo.js';
import { countedTransfer, enterPhase, trackMigration } from './migration-progress.js';
import { EngineContext } from './context.js';
import { locate, type Located } from './instances.js';
import { collectNetworks, connectVif } from './networks.js';
import { PLUGGED_MIGRATION, plugsConfigured } from './plugs.js';
import { startOf, stopGracefully } from './power.js';
import { bodyFor, commitWithLabels, removeStateImage, replace } from './replace.js';
import { LIVE_MISSING, isDelivered, markDelivered, reservationOf } from './reservations.js';

/**
 * The source's side of a migration. COLD between two engines: stop (if running), commit the
 * container's writable layer, stream `save` into the destination's `load`, create the container
 * there in the destination driver's way (its naming and settings come in the target's address)
 * under a temporary name, wire its VIFs, start it if it ran; then the switch (the source container
 * leaves its instance name, the destination one takes it), and the source's leftovers go. Until the
 * switch any failure or a cancelled call undoes everything (R-MIGRATE-ROLLBACK); after it the
 * instance is the destination's, and what the source cannot remove then is retried in the
 * background, never undone. With `sameHost` it is a resize in place: the container is recreated
 * with the new flavor through the driver's replace path (engines' `update` cannot change the labels
 * that carry the flavor, and podman 4.3's update does not last a restart).
 *
 * What does not move: the console log (engines offer no API to write one; the destination's log
 * starts at the arrival), the container's IP addresses (each engine has its own networks; VIFs keep
 * their ids and MACs as recorded) and running processes (they restart, as in a cold migration).
 */

const OP = 'migrate';
const invalid = (path: (string | number)[], message: string) => errors.invalidInput([{ path, message }], OP);

export async function migrate(ctx: EngineContext, uuid: string, target: MigrationTarget, signal?: AbortSignal): Promise<void> {
  if (target.kind === 'LIVE') throw new DriverError('UNSUPPORTED', { op: OP, capability: 'operation.live-migrate', detail: LIVE_MISSING });
  if (!target.sameHost && plugsConfigured(ctx)) {
    throw new DriverError('UNSUPPORTED', { op: OP, target: uuid, capability: 'operation.migrate', detail: PLUGGED_MIGRATION });
  }
  if (target.driver !== DRIVER_NAME) throw invalid(['target', 'driver'], `must be ${DRIVER_NAME}: this source moves instances only to container hosts`);
  if (target.instanceUuid !== uuid) throw invalid(['target', 'instanceUuid'], 'names another instance: the target was prepared for it');
  const address = decodeAddress(target.address);
  if (typeof address === 'string') throw invalid(['target', 'address'], address);
  if (target.sameHost !== (address.socket === ctx.config.socketPath)) {
    throw invalid(['target', 'sameHost'], target.sameHost ? 'is set but the target is another engine' : 'is not set but the target is this engine');
  }
  await ctx.removals.flush(signal);
  // What an earlier move of this instance still owes its destination goes first (it carries the same names).
  await settleUndo(ctx, uuid);
  const found = await locate(ctx, uuid, signal);
  const cell = migrationCell(target.kind, found?.power ?? 'ABSENT');
  if (cell.kind === 'error') {
    throw new DriverError(cell.error, { op: OP, target: uuid, detail: `${cell.rule}: ${cell.why}`, ...(found ? { currentState: found.power } : {}) });
  }
  const dest = target.sameHost ? ctx : remoteContext(ctx, address, target.node);
  const closeDest = async () => {
    dest.removals.stop();
    await dest.disconnect();
  };
  // Set when a rollback's undo on the destination goes on in the background (its engine was away): it closes dest then.
  const owed = { undo: false };
  const untrack = trackMigration(ctx, uuid, target);
  try {
    const reserved = await reservationOf(dest, target.migrationId, signal);
    if (reserved === undefined || reserved.instanceUuid !== uuid || (await isDelivered(dest, target.migrationId, signal))) {
      throw invalid(['target', 'migrationId'], 'is not prepared on the destination (aborted, finished, or never prepared)');
    }
    if (!target.sameHost && (await locate(dest, uuid, signal)) !== undefined) {
      throw new DriverError('INSTANCE_EXISTS', { op: OP, target: uuid, detail: 'R-MIGRATE-EXISTS: the destination has come to hold the instance since the prepare; both copies stay as they are' });
    }
    throwIfCancelled(signal, uuid);
    if (target.sameHost) {
      await replace(ctx, uuid, found!, { ...found!.labels, flavor: target.flavor }, {
        keepLayer: true,
        target: cell.to,
        extraLabels: { [migrationKeys(ctx.naming).migrationId]: target.migrationId },
      }, signal);
      await markDelivered(ctx, target.migrationId).catch(() => undefined);
      return;
    }
    await coldMove(ctx, dest, found!, target, { to: cell.to, pidsLimit: pidsLimitOf(target.flavor, address.pidsLimit), owed, closeDest }, signal);
  } finally {
    untrack();
    if (dest !== ctx && !owed.undo) await closeDest();
  }
}

/** A context on the destination engine with the destination driver's settings: bodyFor and connectVif work there as here. */
function remoteContext(ctx: EngineContext, a: MigrationAddress, node: string): EngineContext {
  const { config } = ctx;
  const remote = new EngineContext(
    ContainerDriverConfigSchema.parse({
      socketPath: a.socket,
      namePrefix: a.namePrefix,
      labelPrefix: a.labelPrefix,
      ownerId: a.ownerId,
      init: a.init,
      stopTimeoutSeconds: a.stopTimeoutSeconds,
      pidsLimit: a.pidsLimit,
      apiVersion: a.apiVersion,
      volumeRoot: config.volumeRoot,
      stateDir: config.stateDir,
      connectTimeoutMs: config.connectTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      longRequestTimeoutMs: config.longRequestTimeoutMs,
    }),
    {},
  );
  // No call to the engine: what initHost learns that creating a container needs is in the address.
  remote.differences = differencesOf(a.engine);
  remote.host = { ...remote.host, node, cpus: a.cpus };
  return remote;
}

function throwIfCancelled(signal: AbortSignal | undefined, uuid: string): void {
  if (!signal?.aborted) return;
  throw signal.reason instanceof DriverError ? signal.reason : new DriverError('CANCELLED', { op: OP, target: uuid, detail: 'the migration was cancelled before the instance moved' });
}

/** The VIFs of the source container, as Vifs the destination can connect (network ids from the networks' labels). */
async function vifsOf(ctx: EngineContext, found: Located, signal?: AbortSignal): Promise<Vif[]> {
  const out: Vif[] = [];
  for (const [net, ep] of Object.entries(found.inspect.NetworkSettings.Networks ?? {})) {
    if (net === ctx.baseNetwork) continue;
    const vif = vifOfEndpoint(ctx.naming, ep);
    if (!vif) continue;
    const networkId = (await ctx.client.inspectNetwork(net, signal)).Labels?.[ctx.keys.networkId] ?? net;
    out.push({ id: vif.id, address: vif.address, network: { id: networkId }, type: 'bridge', vnicType: 'normal', profile: {}, details: {}, active: true } as Vif);
  }
  return out;
}

/** Remove an image by name; gone already is fine, anything else is reported to the caller's cleanup (best effort). */
async function removeImageQuietly(ctx: EngineContext, ref: string): Promise<void> {
  try {
    await ctx.client.removeImage(ref);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

async function coldMove(
  ctx: EngineContext,
  dest: EngineContext,
  found: Located,
  target: MigrationTarget,
  how: { to: SemanticState; pidsLimit: number; owed: { undo: boolean }; closeDest: () => Promise<void> },
  signal?: AbortSignal,
): Promise<void> {
  const uuid = found.labels.uuid;
  const transfer = transferImage(dest.naming, uuid, target.migrationId);
  const stateRepo = `${dest.config.namePrefix}-state/${uuid}`;
  const wasRunning = found.power === 'RUNNING';
  const vifs = await vifsOf(ctx, found, signal);
  const done = { stopped: false, committed: false };
  let newId: string | undefined;
  const touched: string[] = [];
  ctx.inFlight.add(uuid);
  try {
    if (wasRunning) {
      done.stopped = true; // before the call: a stop the call gave up on still ends the run
      await stopGracefully(ctx, found, ctx.config.stopTimeoutSeconds, signal);
    }
    // Labelled as the destination driver's state image: its destroy removes it with the instance.
    const stateLabels = { [dest.keys.owner]: dest.config.ownerId, [dest.keys.kind]: 'state-image', [dest.keys.uuid]: uuid };
    // Commit and load are not abandoned half way: an engine finishes a commit (or a load) the caller gave
    // up on, and an image made after the rollback looked would be left behind. The signal is looked at after each.
    throwIfCancelled(signal, uuid);
    done.committed = true; // before the call: a commit whose answer is lost may still have been made
    await commitWithLabels(ctx, found.inspect.Id, { repo: transfer.repo, tag: transfer.tag, labels: stateLabels });
    throwIfCancelled(signal, uuid);
    const tar = countedTransfer(ctx, uuid, await saveImage(ctx.client, transfer.ref));
    const step = ctx.hooks.migrationStep;
    await loadImage(dest.client, step ? midway(tar, () => step('loading', uuid)) : tar, undefined, loadError);
    throwIfCancelled(signal, uuid);
    await tagImage(dest.client, transfer.ref, stateRepo, 'latest', signal);
    await removeImageQuietly(dest, transfer.ref);
    const labels: InstanceLabels = { ...found.labels, flavor: target.flavor, node: target.node };
    const body = bodyFor(dest, `${stateRepo}:latest`, labels, how.pidsLimit);
    body.Labels[migrationKeys(dest.naming).migrationId] = target.migrationId;
    throwIfCancelled(signal, uuid);
    // Not abandoned half way (as spawn): a create given up on would still be made, unseen.
    enterPhase(ctx, uuid, 'SWITCHING');
    newId = await dest.client.createContainer(containerName(dest.naming, uuid, 'spawning'), body);
    const wired = { Id: newId, NetworkSettings: { Networks: {} as Record<string, object> } };
    for (const vif of vifs) wired.NetworkSettings.Networks[await connectVif(dest, wired, vif, signal, touched)] = {};
    await ctx.hooks.migrationStep?.('created', uuid);
    if (how.to === 'RUNNING') await dest.client.startContainer(newId, signal);
    throwIfCancelled(signal, uuid);
    // The switch. The source leaves its instance name first, so the instance is never listed twice;
    // it is listed by neither only between these two renames.
    await ctx.client.renameContainer(found.inspect.Id, handedOverName(ctx.naming, uuid));
    try {
      await dest.client.renameContainer(newId, containerName(dest.naming, uuid));
    } catch (err) {
      await ctx.client.renameContainer(found.inspect.Id, containerName(ctx.naming, uuid));
      throw err;
    }
    // Delivered: marked on the destination, so that the migration stays delivered once the instance
    // leaves it again. Without the mark (its engine went away just now) the container's label says so.
    await markDelivered(dest, target.migrationId).catch(() => undefined);
  } catch (err) {
    await rollback(ctx, dest, found, target, { ...done, touched, transfer: transfer.ref }, how).catch(() => undefined);
    throw err;
  } finally {
    ctx.inFlight.delete(uuid);
  }
  // The instance is the destination's now: the source's container, images and unused networks go.
  // What fails here (the source engine went away) is retried in the background, never undone.
  enterPhase(ctx, uuid, 'CLEANING');
  const networks = Object.keys(found.inspect.NetworkSettings.Networks ?? {}).filter((n) => n !== ctx.baseNetwork);
  try {
    await removeOwnedContainer(ctx, found.inspect);
    await collectNetworks(ctx, networks);
    await removeImageQuietly(ctx, transfer.ref);
    await removeStateImage(ctx, uuid);
  } catch {
    await ctx.removals.discard(found.inspect.Id, networks);
  }
}

/** The stream `tar`, with `hook` awaited once its first chunk has been taken (by the destination's load) and before the next. */
function midway(tar: Readable, hook: () => Promise<void> | void): Readable {
  return Readable.from(
    (async function* () {
      let n = 0;
      for await (const chunk of tar) {
        if (n++ === 1) await hook();
        yield chunk as Buffer;
      }
    })(),
    { objectMode: false },
  );
}

/**
 * Undo a move that did not reach the switch: nothing of it on the destination (now, or once its engine is
 * back: migration-undo.ts), the source as it was. Without the signal.
 */
async function rollback(
  ctx: EngineContext,
  dest: EngineContext,
  found: Located,
  target: MigrationTarget,
  done: { stopped: boolean; committed: boolean; touched: string[]; transfer: string },
  how: { owed: { undo: boolean }; closeDest: () => Promise<void> },
): Promise<void> {
  const destSide = async () => {
    if (!(await undoOrRetry(ctx, dest, target, done.touched, how.closeDest))) how.owed.undo = true;
  };
  const sourceSide = async () => {
    if (done.committed) await removeImageQuietly(ctx, done.transfer).catch(() => undefined);
    if (done.stopped) await startOf(ctx, found);
  };
  await Promise.all([destSide(), sourceSide()]);
}
