import { randomBytes } from 'node:crypto';
import { DriverError, errors, type SnapshotResult, type SnapshotSpec } from '@nova-common/core';
import { isConflict, isNotFound } from '../mapping/errors.js';
import { isValidImageReference } from '../mapping/images.js';
import { isOwned, ownerFilter } from '../mapping/labels.js';
import type { EngineContext } from './context.js';
import { instanceFor } from './instances.js';
import { commitWithLabels } from './replace.js';

/**
 * Snapshots are commits of the container to `<prefix>-snapshot:<owner>-<random>`, labelled as the
 * driver's (owner, kind=snapshot, source uuid, name, time made). Crash-consistent: the container is
 * not frozen for the commit.
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
    [ctx.keys.createdAt]: new Date().toISOString(),
  };
  await commitWithLabels(ctx, found.inspect.Id, { repo, tag, labels }, signal);
  const ref = `${repo}:${tag}`;
  const image = await ctx.client.inspectImage(ref, signal);
  return resultOf(ref, spec.name, image.Size);
}

function resultOf(imageId: string, name: string, size: number): SnapshotResult {
  return { imageId, name, diskFormat: 'raw', containerFormat: 'docker', sizeBytes: Math.max(0, Math.floor(size)) };
}

/**
 * The snapshot images this driver made and has not deleted, read from the engine (its owner label filtered
 * server-side, the kind label here: podman 4.3 lists no image for two label filters at once), oldest first by
 * the time the label records (the engine lists whole seconds).
 */
export async function listSnapshots(ctx: EngineContext, signal?: AbortSignal): Promise<SnapshotResult[]> {
  const repo = `${ctx.config.namePrefix}-snapshot`;
  const found: { at: string; result: SnapshotResult }[] = [];
  for (const image of await ctx.client.listImages({ label: ownerFilter(ctx.naming) }, signal)) {
    if (!isOwned(ctx.naming, image.Labels, 'snapshot')) continue;
    const ref = snapshotReference(repo, image.RepoTags);
    if (ref === undefined) continue; // untagged: not one snapshot returned
    const labels = image.Labels ?? {};
    // podman stores labels given as commit `changes` percent-encoded (mapping/engine-kind.ts labelChanges).
    const read = (key: string): string | undefined => {
      const v = labels[key];
      return v !== undefined && ctx.differences.commitLabelsAsChanges ? decodeOrKeep(v) : v;
    };
    found.push({
      at: read(ctx.keys.createdAt) ?? new Date(image.Created * 1000).toISOString(),
      result: resultOf(ref, read(ctx.keys.snapshotName) ?? ref, image.Size),
    });
  }
  found.sort((a, b) => (a.at !== b.at ? (a.at < b.at ? -1 : 1) : a.result.imageId < b.result.imageId ? -1 : 1));
  return found.map((f) => f.result);
}

/** `<repo>:<tag>` as snapshot returned it, from the engine's tags (podman lists `localhost/<repo>:<tag>`). */
export function snapshotReference(repo: string, tags: readonly string[] | null): string | undefined {
  for (const t of tags ?? []) {
    const last = t.slice(t.lastIndexOf('/') + 1);
    if (last.startsWith(`${repo}:`)) return last;
  }
  return undefined;
}

function decodeOrKeep(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
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
