/**
 * ImageMeta.id -> a local image reference. No registry is ever contacted: the reference
 * must name an image already present in the engine.
 */

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?';
const TAG = '(?::[\\w][\\w.-]{0,127})?';
const DIGEST = '(?:@sha256:[a-f0-9]{64})?';
const REFERENCE = new RegExp(`^${DOMAIN}${COMPONENT}(?:/${COMPONENT})*${TAG}${DIGEST}$`);
const IMAGE_ID = /^(?:sha256:)?[a-f0-9]{64}$/;

/** Whether `ref` is a syntactically valid image reference (name[:tag][@digest]) or image id. */
export function isValidImageReference(ref: string): boolean {
  return ref.length <= 255 && (IMAGE_ID.test(ref) || REFERENCE.test(ref));
}

/** Whether an allowlist (exact references, or prefixes ending in `*`) admits `ref`. */
export function imageAllowed(allowlist: readonly string[] | undefined, ref: string): boolean {
  if (allowlist === undefined) return true;
  return allowlist.some((entry) => (entry.endsWith('*') ? ref.startsWith(entry.slice(0, -1)) : ref === entry));
}

/** The local reference for an ImageMeta id, through the configured map. */
export function imageReferenceFor(imageMap: Readonly<Record<string, string>>, id: string): string {
  return Object.prototype.hasOwnProperty.call(imageMap, id) ? imageMap[id]! : id;
}
