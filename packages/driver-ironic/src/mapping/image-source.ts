/**
 * What Ironic needs to know about an image besides its source, for the sources Glance does not
 * describe. With a Glance image (the default template `{id}`), Ironic reads the checksum, the
 * image type and the kernel/ramdisk from Glance itself, as under Nova: nothing is added. With a
 * `file://` or `http(s)://` source, this Ironic release (21.4, Zed) requires in instance_info:
 *
 *   - a checksum: `image_checksum` (a hex digest or the URL of a checksum file) or the pair
 *     `image_os_hash_algo` + `image_os_hash_value`. For http(s) the agent deploy's validate
 *     refuses the node without it (ironic/drivers/modules/agent.py); for file:// Ironic verifies
 *     the cached copy against it (checksum_utils.get_checksum_and_algo fails on none).
 *     A file:// image's checksum is computed here (SHA-256 of the file, cached by path, size and
 *     modification time) unless config.images gives one; an http(s) image's must be configured.
 *   - the image type: Ironic takes a non-Glance image for a whole-disk image unless it is told
 *     `image_type: partition` or given a kernel and ramdisk (ironic/common/images.py
 *     is_whole_disk_image). The driver always sends `image_type`.
 *   - a partition image's `kernel` and `ramdisk` (deploy_utils.parse_instance_info and
 *     get_image_instance_info require them for non-Glance partition images booted by the network;
 *     Nova always passes them from the image's kernel_id/ramdisk_id). An image is a partition image
 *     when config.images says so (`imageType`) or its disk format is `ami` (Glance's AMI: a file
 *     system with separate kernel (aki) and ramdisk (ari) images); without both, spawn and rebuild
 *     refuse it with INVALID_INPUT naming the missing field, before anything is sent.
 *
 * The contract's ImageMeta carries no checksum and no kernel or ramdisk, so those come from the
 * driver's configuration (`images`, keyed by image id), next to `imageSourceTemplate` which says
 * where the images are.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ImageMeta, InputIssue } from '@nova-common/core';
import type { ImageEntry } from '../config.js';

/** instance_info keys describing the image beyond its source and disk format. */
export const IMAGE_DETAIL_KEYS = ['image_checksum', 'image_os_hash_algo', 'image_os_hash_value', 'image_type', 'kernel', 'ramdisk'] as const;

export type ImageDetails = Partial<Record<(typeof IMAGE_DETAIL_KEYS)[number], string>>;

export class ImageInputError extends Error {
  override readonly name = 'ImageInputError';
  constructor(readonly issue: InputIssue) {
    super(`${issue.path.join('.')}: ${issue.message}`);
  }
}

/** The image's source for Ironic: the template with `{id}` replaced by the URL-encoded image id. */
export function imageSource(template: string, imageId: string): string {
  return template.split('{id}').join(encodeURIComponent(imageId));
}

export type SourceKind = 'glance' | 'file' | 'http';

export function sourceKind(source: string): SourceKind {
  if (/^file:\/\//i.test(source)) return 'file';
  if (/^https?:\/\//i.test(source)) return 'http';
  return 'glance';
}

/** SHA-256 of a file, streamed; `cache` keeps digests by path, size and modification time. */
export type FileDigest = (path: string) => Promise<string>;

export function cachedSha256(): FileDigest {
  const cache = new Map<string, { key: string; digest: Promise<string> }>();
  return async (path) => {
    const st = await stat(path);
    const key = `${st.size}:${st.mtimeMs}:${st.ino}`;
    const hit = cache.get(path);
    if (hit && hit.key === key) return hit.digest;
    const digest = new Promise<string>((resolve, reject) => {
      const hash = createHash('sha256');
      createReadStream(path)
        .on('data', (chunk) => hash.update(chunk))
        .on('error', reject)
        .on('end', () => resolve(hash.digest('hex')));
    });
    cache.set(path, { key, digest });
    digest.catch(() => cache.delete(path));
    return digest;
  };
}

export interface ImageDetailOptions {
  imageSourceTemplate: string;
  images: Record<string, ImageEntry>;
}

const configPath = (id: string, field: string) => ['config', 'images', id, field];

/** Whether the image is a partition image (config.images, else Glance's AMI disk format). */
export function isPartitionImage(image: Pick<ImageMeta, 'id' | 'diskFormat'>, entry: ImageEntry | undefined): boolean {
  return (entry?.imageType ?? (image.diskFormat === 'ami' ? 'partition' : 'whole-disk')) === 'partition';
}

/**
 * The image detail fields this Ironic needs for `image` (none for a Glance image), or an
 * ImageInputError naming the field that is missing. Reads the file of a file:// source when no
 * checksum is configured.
 */
export async function imageDetails(image: Pick<ImageMeta, 'id' | 'diskFormat'>, o: ImageDetailOptions, digest: FileDigest): Promise<ImageDetails> {
  if (image.diskFormat === 'aki' || image.diskFormat === 'ari') {
    throw new ImageInputError({ path: ['spec', 'image', 'diskFormat'], message: `a ${image.diskFormat} image is a kernel or ramdisk, not a disk a node can boot from` });
  }
  const source = imageSource(o.imageSourceTemplate, image.id);
  const kind = sourceKind(source);
  if (kind === 'glance') return {};
  const entry = o.images[image.id];
  const out: ImageDetails = {};
  if (entry?.osHashAlgo && entry.osHashValue) {
    out.image_os_hash_algo = entry.osHashAlgo;
    out.image_os_hash_value = entry.osHashValue.toLowerCase();
  } else if (entry?.checksum) {
    out.image_checksum = entry.checksum;
  } else if (kind === 'file') {
    const path = fileURLToPath(source);
    try {
      out.image_os_hash_algo = 'sha256';
      out.image_os_hash_value = await digest(path);
    } catch (e) {
      throw new ImageInputError({
        path: ['spec', 'image', 'id'],
        message: `the image file ${path} cannot be read to compute its checksum (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); Ironic needs one: make the file readable here or set config.images["${image.id}"].osHashAlgo/osHashValue`,
      });
    }
  } else {
    throw new ImageInputError({
      path: configPath(image.id, 'osHashValue'),
      message: `an http(s) image needs a checksum (Ironic refuses to deploy it without one): set config.images["${image.id}"].osHashAlgo/osHashValue or .checksum`,
    });
  }
  const partition = isPartitionImage(image, entry);
  out.image_type = partition ? 'partition' : 'whole-disk';
  if (partition) {
    for (const field of ['kernel', 'ramdisk'] as const) {
      const value = entry?.[field];
      if (!value) {
        throw new ImageInputError({
          path: configPath(image.id, field),
          message: `a partition image needs a ${field} (Ironic boots a non-Glance partition image with them): set config.images["${image.id}"].${field}`,
        });
      }
      out[field] = value;
    }
  }
  return out;
}
