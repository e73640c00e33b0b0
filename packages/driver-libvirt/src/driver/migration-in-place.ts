import { errors, expectedUsage, throwIfAborted, type MigrationTarget } from '@nova-common/core';
import { Flags } from '../client/protocol/remote-types.js';
import { instanceDiskFormat } from '../images/formats.js';
import { imageInfo, resize } from '../images/qemu-img.js';
import { buildDomainXml, rootDiskPath } from '../mapping/domain-xml.js';
import { arrivalKinds, requestedKinds } from '../mapping/requested-events.js';
import type { DriverContext } from './context.js';
import type { Loaded } from './instances.js';
import * as book from './migration-book.js';
import { enterPhase } from './migration-progress.js';
import { hardStop } from './teardown.js';

/**
 * A resize in place (a `sameHost` migration, R-MIGRATE-IN-PLACE): the prepared reservation is
 * checked, the guest stopped (forced, as Nova powers off for a resize), the domain redefined with
 * the target's flavor, the root disk grown when the flavor's root grew (a shrink was refused
 * before anything moved), and the guest started again if it ran. The reservation is then marked
 * delivered: finishMigration closes it, abortMigration refuses it. On a failure the domain gets
 * its old definition back (and the root disk its old size), and the guest is started again if it
 * ran: the instance keeps its flavor and power state (R-MIGRATE-ROLLBACK).
 */
export async function resizeInPlace(ctx: DriverContext, l: Loaded, target: MigrationTarget, signal: AbortSignal | undefined): Promise<void> {
  const uuid = l.record.uuid;
  const prepared = await book.readPrepared(ctx, target.migrationId);
  if (prepared === undefined || !prepared.target.sameHost || prepared.target.instanceUuid !== uuid || prepared.delivered === true) {
    throw errors.invalidInput([{ path: ['target', 'migrationId'], message: 'is not prepared on this host (aborted, finished, or never prepared)' }], 'migrate');
  }
  throwIfAborted(signal);
  const wasRunning = l.semantic === 'RUNNING';
  const oldXml = await ctx.client.getXmlDesc(l.ref, Flags.DOMAIN_XML_INACTIVE);
  const root = rootDiskPath({ instanceDir: ctx.instanceDir(uuid) });
  const format = instanceDiskFormat(l.record.image.diskFormat);
  const oldSize = (await imageInfo(root, format)).virtualSize;
  const end = ctx.requested.begin(uuid, requestedKinds('rebootHard', l.semantic));
  const done = { stopped: false, defined: false, grown: false };
  try {
    if (wasRunning) {
      done.stopped = true; // before the call: a stop whose answer is lost may still have happened
      await hardStop(ctx, l.ref);
    }
    throwIfAborted(signal);
    done.defined = true;
    await ctx.client.defineXml(buildDomainXml({ ...l.record, flavor: target.flavor }, ctx.env(uuid, l.domain.name)));
    const bytes = target.flavor.rootGb * 1024 ** 3;
    if (oldSize < bytes) {
      done.grown = true;
      await resize(root, format, bytes);
    }
    enterPhase(ctx, uuid, 'SWITCHING');
    if (wasRunning) await ctx.client.create(l.ref);
  } catch (err) {
    await rollback(ctx, l, { ...done, oldXml, root, format, oldSize, wasRunning }).catch(() => undefined);
    end();
    throw err;
  }
  // The instance has its new flavor: the owned tally counts it, the reservation is delivered.
  ctx.owned.forget(uuid);
  ctx.owned.noteOwned(uuid, expectedUsage(target.flavor));
  await book.writePrepared(ctx, { ...prepared, delivered: true });
  end(arrivalKinds(wasRunning ? 'RUNNING' : 'SHUTDOWN'));
}

/** Undo a resize in place that failed: the old definition, the old root size, the guest started if it ran. */
async function rollback(
  ctx: DriverContext,
  l: Loaded,
  r: { stopped: boolean; defined: boolean; grown: boolean; oldXml: string; root: string; format: string; oldSize: number; wasRunning: boolean },
): Promise<void> {
  if (r.stopped) await hardStop(ctx, l.ref).catch(() => undefined);
  if (r.defined) await ctx.client.defineXml(r.oldXml);
  if (r.grown) await resize(r.root, r.format, r.oldSize, { shrink: true }).catch(() => undefined);
  if (r.stopped && r.wasRunning) await ctx.client.create(l.ref);
}
