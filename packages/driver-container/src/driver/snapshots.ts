import { randomBytes } from 'node:crypto';
import { DriverError, errors, type SnapshotResult, type SnapshotSpec } from '@nova-common/core';
import { isConflict, isNotFound } from '../mapping/errors.js';
import { isValidImageReference } from '../mapping/images.js';
import { isOwned } from '../mapping/labels.js';
import type { EngineContext } from './context.js';
import { instanceFor } from './instances.js';
import { commitWithLabels } from './replace.js';

/**
 * Snapshots are commits of the container to `<prefix>-snapshot:<owner>-<random>`, labelled as the
 * driver's. Crash-consistent: the container is not frozen for the commit.
 */
export async function snapshot(ctx: EngineContext, uuid: string, spec: SnapshotSpec, signal?: AbortSignal): Promise<SnapshotResult> {
  const { found } = await instanceFor(ctx, { op: 'snapshot', column: 'snapshot', uuid }, signal);
  const repo = `${ctx.config.namePrefix}-snapshot`;
  const tag = `${ctx.config.ownerId.toLowerCase().replace(/[^a-z0-9_.-]/g, '-')}-${randomBytes(8).toString('hex')}`;
  const labels = {
    [ctx.keys.owner]: ctx.config.ownerId,
    [ctx.keys.kind]: 'snapshot',
    [ctx.keys.uuid]: uuid,
    [ctx.keys.snapshotName]: spec.name,
  };
  await commitWithLabels(ctx, found.inspect.Id, { repo, tag, labels }, signal);
  const ref = `${repo}:${tag}`;
  const image = await ctx.client.inspectImage(ref, signal);
  return { imageId: ref, name: spec.name, diskFormat: 'raw', containerFormat: 'docker', sizeBytes: Math.max(0, Math.floor(image.Size)) };
}

/** Remove a snapshot's image when this driver made it; gone already is success; any other image is refused. */
export async function deleteSnapshot(ctx: EngineContext, ref: string, signal?: AbortSignal): Promise<void> {
  if (!isValidImageReference(ref)) return; // not an image reference: no such image, nothing to delete
  let image;
  try {
    image = await ctx.client.inspectImage(ref, signal);
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  if (!isOwned(ctx.naming, image.Config?.Labels, 'snapshot')) {
    throw errors.invalidInput([{ path: ['imageId'], message: 'is not a snapshot this driver made' }], 'deleteSnapshot');
  }
  try {
    await ctx.client.removeImage(ref, signal);
  } catch (err) {
    if (isNotFound(err)) return;
    if (isConflict(err)) throw new DriverError('CONFLICT', { op: 'deleteSnapshot', target: ref, detail: 'an instance still runs from this image', cause: err });
    throw err;
  }
}
