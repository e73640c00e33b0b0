import { LibvirtClient } from '../client/libvirt-client.js';
import { VirErr } from '../client/protocol/remote-types.js';
import { daemonUri } from '../config.js';
import { isLibvirtCode } from '../mapping/errors.js';
import type { MigrationAddress } from '../mapping/migration-address.js';
import type { DriverContext } from './context.js';

/** A short-lived connection to the destination's daemon, as this driver reaches it. */
export async function connectDestination(ctx: DriverContext, dest: MigrationAddress, connectTimeoutMs = ctx.config.connectTimeoutMs): Promise<LibvirtClient> {
  const client = new LibvirtClient({
    socketPath: dest.socketPath,
    uri: daemonUri(dest.openUri),
    callTimeoutMs: ctx.config.callTimeoutMs,
    connectTimeoutMs,
    keepaliveIntervalMs: 0,
  });
  await client.connect();
  return client;
}

/** Whether the destination's daemon answers now (after a failed migration: was the peer lost?). */
export async function destinationAnswers(ctx: DriverContext, dest: MigrationAddress): Promise<boolean> {
  try {
    const client = await connectDestination(ctx, dest, Math.min(ctx.config.connectTimeoutMs, 5_000));
    await client.close().catch(() => undefined);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the destination's daemon has a domain of the instance (R-MIGRATE-EXISTS at migrate: it
 * was spawned there after the prepare, an evacuation); asked before anything moves.
 */
export async function destinationHolds(ctx: DriverContext, dest: MigrationAddress, uuid: string): Promise<boolean> {
  const client = await connectDestination(ctx, dest);
  try {
    await client.lookupByUuid(uuid);
    return true;
  } catch (err) {
    if (isLibvirtCode(err, VirErr.NO_DOMAIN)) return false;
    throw err;
  } finally {
    await client.close().catch(() => undefined);
  }
}
