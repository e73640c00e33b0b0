/**
 * Ironic microversions ("1.56"), compared numerically: 1.9 < 1.10. Negotiation picks the
 * highest version both the server and the configured range accept, once, and every request
 * then carries it in X-OpenStack-Ironic-API-Version.
 */
export interface Microversion {
  major: number;
  minor: number;
}

function parseMicroversion(text: string): Microversion {
  const m = /^(\d+)\.(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`not a microversion: ${JSON.stringify(text)}`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

function formatMicroversion(v: Microversion): string {
  return `${v.major}.${v.minor}`;
}

function compareMicroversions(a: Microversion, b: Microversion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

export interface VersionRange {
  min: string;
  max: string;
}

/**
 * The highest version in both ranges, or undefined when they do not overlap.
 * `server` comes from the X-OpenStack-Ironic-API-Minimum/Maximum-Version headers.
 */
export function negotiateMicroversion(wanted: VersionRange, server: VersionRange): string | undefined {
  const lo = [parseMicroversion(wanted.min), parseMicroversion(server.min)].sort(compareMicroversions)[1]!;
  const hi = [parseMicroversion(wanted.max), parseMicroversion(server.max)].sort(compareMicroversions)[0]!;
  if (compareMicroversions(lo, hi) > 0) return undefined;
  return formatMicroversion(hi);
}

/** Header names (Ironic answers with them on every response, 406 included). */
export const VERSION_HEADER = 'x-openstack-ironic-api-version';
export const MIN_VERSION_HEADER = 'x-openstack-ironic-api-minimum-version';
export const MAX_VERSION_HEADER = 'x-openstack-ironic-api-maximum-version';
