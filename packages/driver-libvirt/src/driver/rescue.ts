import type { CallOptions, RescueSpec } from '@nova-common/core';
import { buildDomainXml, rescueDiskPath } from '../mapping/domain-xml.js';
import * as files from '../host-files.js';
import type { DriverContext } from './context.js';
import { withInstance } from './instances.js';
import { makeImageDisk } from '../images/prepare.js';
import { imagePath, imageRecord, requireImage } from './lifecycle.js';
import { hardStop } from './teardown.js';

/**
 * Rescue, as Nova does it: stop, boot from a rescue disk (made from the rescue image, or from
 * the instance's own image) with the instance's root disk after it, and record the
 * mode in the metadata (a running instance in rescue mode is in the table's RESCUE state).
 */
export async function rescue(ctx: DriverContext, uuid: string, spec: RescueSpec, options?: CallOptions): Promise<void> {
  const given = spec.image ? await requireImage(ctx, spec.image, 'rescue', ['spec', 'image']) : undefined;
  await withInstance(ctx, 'rescue', 'rescue', uuid, options, async (l) => {
    const r = l.record;
    const env = ctx.env(uuid, l.domain.name);
    const rescueImage = spec.image ? imageRecord(spec.image) : r.image;
    // Without a rescue image, the instance's own image (checked again: the file may have changed).
    const checked = given ?? (await requireImage(ctx, rescueImage, 'rescue', ['spec', 'image']));
    await hardStop(ctx, l.ref);
    r.mode = 'rescue';
    r.rescueImage = rescueImage;
    if (ctx.hasFiles) await makeImageDisk(imagePath(ctx, rescueImage.id), rescueDiskPath(env), checked!);
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
