import { DriverError, type InputIssue } from '@nova-common/core';
import type { Flavor } from './contract-types.js';

/**
 * Flavor extra specs the driver reads, and the ones it refuses.
 *
 * The driver reads one key, `container:pids_limit`. Any other key in the namespaces a caller would
 * address this driver in (`container:`, `docker:`, `podman:`) is refused with INVALID_INPUT naming
 * the key, never dropped silently: a caller asking for privileged mode, the host's network, PID or
 * IPC namespace, added capabilities or host devices must not believe it got them (the driver never
 * grants them, see container-config.ts). Keys of other namespaces (Nova's `hw:`, `quota:`,
 * `resources:`, scheduler hints) are not this driver's and pass through unread.
 *
 * Image properties need no such check: the contract's image properties are a closed set of
 * hardware hints (`hwDiskBus`, `osType`, ...), none of which the driver reads.
 */

export const PIDS_LIMIT_KEY = 'container:pids_limit';

/** The namespaces a key addressed to this driver is written in. */
const OWN_NAMESPACES = ['container', 'docker', 'podman'];

/** Key names (after the namespace) asking for something the driver never grants. */
const HOST_PRIVILEGE =
  /privileg|cap_?add|capabilit|^caps?$|net(work)?(_?mode)?$|host|pid|ipc|uts|userns|cgroupns|security|seccomp|apparmor|selinux|device|sysctl|mount|bind|volume|runtime/i;

function issueFor(key: string, name: string): InputIssue {
  const path = ['spec', 'flavor', 'extraSpecs', key];
  if (name.trim().toLowerCase() !== 'pids_limit' && HOST_PRIVILEGE.test(name)) {
    return {
      path,
      message:
        'asks for a host privilege (privileged mode, a host namespace, capabilities, devices or mounts) this driver never grants; remove the key',
    };
  }
  return { path, message: `is not a setting of this driver (it reads ${PIDS_LIMIT_KEY} only); remove the key` };
}

/** Refuse every extra spec in the driver's namespaces it does not honour, each key named. */
export function assertHonouredExtraSpecs(flavor: Flavor, op: string): void {
  const issues: InputIssue[] = [];
  for (const key of Object.keys(flavor.extraSpecs)) {
    const colon = key.indexOf(':');
    if (colon < 0 || key === PIDS_LIMIT_KEY) continue;
    if (!OWN_NAMESPACES.includes(key.slice(0, colon).trim().toLowerCase())) continue;
    issues.push(issueFor(key, key.slice(colon + 1)));
  }
  if (issues.length > 0) throw new DriverError('INVALID_INPUT', { op, issues });
}

/** The pids limit of a flavor: extra spec `container:pids_limit`, else the configured default. */
export function pidsLimitOf(flavor: Flavor, fallback: number): number {
  const raw = flavor.extraSpecs[PIDS_LIMIT_KEY];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < 16 || n > 4_194_304) {
    throw new DriverError('INVALID_INPUT', {
      op: 'spawn',
      issues: [{ path: ['spec', 'flavor', 'extraSpecs', PIDS_LIMIT_KEY], message: 'must be an integer between 16 and 4194304' }],
    });
  }
  return n;
}
