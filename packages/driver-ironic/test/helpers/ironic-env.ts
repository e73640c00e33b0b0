/** Where the test Ironics listen (scripts/backends/ironic.sh) and a loud failure when they do not. */
import { guard, type GuardedDriver } from '@nova-common/core';
import { createIronicDriver, type IronicDriver, type IronicDriverConfigInput } from '../../src/index.js';
import { IMAGE_SOURCE_TEMPLATE } from './specs.js';

export const ENDPOINTS = {
  default: 'http://127.0.0.1:6385',
  failing: 'http://127.0.0.1:6386',
} as const;

export async function requireIronic(variant: keyof typeof ENDPOINTS): Promise<void> {
  const url = `${ENDPOINTS[variant]}/v1/drivers`;
  let ok = false;
  let why = '';
  try {
    const res = await fetch(url, { headers: { 'X-OpenStack-Ironic-API-Version': '1.78' }, signal: AbortSignal.timeout(5000) });
    ok = res.ok && (await res.text()).includes('fake-hardware');
    if (!ok) why = `HTTP ${res.status}`;
  } catch (e) {
    why = (e as Error).message;
  }
  if (!ok) {
    throw new Error(
      `Ironic (${variant}) is not running at ${ENDPOINTS[variant]} (${why}). Start it with: scripts/backends/ironic.sh install && scripts/backends/ironic.sh start`,
    );
  }
}

/** The raw driver, for the suites that guard it themselves (conformance, differential). */
export function testDriver(variant: keyof typeof ENDPOINTS, over: IronicDriverConfigInput = {}): IronicDriver {
  return createIronicDriver({
    endpoint: ENDPOINTS[variant],
    imageSourceTemplate: IMAGE_SOURCE_TEMPLATE,
    nodeFilter: { resourceClass: 'baremetal' },
    nodeAvailableMs: 15_000,
    ...over,
  });
}

/**
 * The driver as consumers get it, behind core's guard (which parses arguments, serialises
 * calls per instance and carries the deadline), and the raw driver for Ironic's own view
 * (`raw.client`).
 */
export function guardedTestDriver(variant: keyof typeof ENDPOINTS, over: IronicDriverConfigInput = {}): { raw: IronicDriver; driver: GuardedDriver } {
  const raw = testDriver(variant, over);
  return { raw, driver: guard(raw) };
}
