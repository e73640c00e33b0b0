import type { CallOptions, RescueSpec } from '@nova-common/core';
import { buildDomainXml, rescueDiskPath } from '../mapping/domain-xml.js';
import * as files from '../host-files.js';
import type { DriverContext } from './context.js';
import { withInstance } from './instances.js';
import { imageRecord, requireImage } from './lifecycle.js';
import { hardStop } from './teardown.js';

/**
 * Rescue, as Nova does it: stop, boot from a rescue disk (a copy of the rescue image, or of
 * the instance's own image) with the instance's disks attached after it, and record the
 * mode in the metadata (a running instance in rescue mode is in the table's RESCUE state).
 */
export async function rescue(ctx: DriverContext, uuid: string, spec: RescueSpec, options?: CallOptions): Promise<void> {
  if (spec.image) await requireImage(ctx, spec.image.id, 'rescue', ['spec', 'image', 'id']);
  await withInstance(ctx, 'rescue', 'rescue', uuid, options, async (l) => {
    const r = l.record;
    const env = ctx.env(uuid, l.domain.name);
    await hardStop(ctx, l.ref);
    r.mode = 'rescue';
    r.rescueImage = spec.image ? imageRecord(spec.image) : r.image;
    if (ctx.hasFiles) await files.copyImage(files.inside(ctx.config.imageDir, r.rescueImage.id), rescueDiskPath(env));
    await ctx.client.defineXml(buildDomainXml(r, env));
    await ctx.client.create(l.ref, 0, options?.signal ? { signal: options.signal } : undefined);
  });
}

/** Unrescue: stop, redefine the normal domain, drop the rescue disk, start. */
export async function unrescue(ctx: DriverContext, uuid: string, options?: CallOptions): Promise<void> {
  await withInstance(ctx, 'unrescue', 'unrescue', uuid, options, async (l) => {
    const r = l.record;
    const env = ctx.env(uuid, l.domain.name);
    await hardStop(ctx, l.ref);
    r.mode = 'normal';
    delete r.rescueImage;
    await ctx.client.defineXml(buildDomainXml(r, env));
    if (ctx.hasFiles) await files.removeFile(rescueDiskPath(env));
    await ctx.client.create(l.ref, 0, options?.signal ? { signal: options.signal } : undefined);
  });
}
