import type { PeerCertificate } from 'node:tls';
import type { RemoteOperation } from '../mapping/operations.js';
import type { PlugOperation } from '../mapping/plug-operations.js';

/**
 * Who may call what. `compute` is the orchestrator (everything); `network` and `volume` are the
 * services that hot-plug their devices and plug them on the host (their operations and the
 * reads); `reader` watches (reads only: monitoring, inventory collectors).
 */
export const ROLES = ['compute', 'network', 'volume', 'reader'] as const;
export type Role = (typeof ROLES)[number];

/** Every RPC of the services by operation name: the compute service's, WatchEvents and the plug services'. */
export type RpcName = RemoteOperation | 'watchEvents' | PlugOperation;

const READS: readonly RpcName[] = [
  ...['getCapabilities', 'listNodes', 'getInventory', 'listInstances', 'getInfo', 'getConsoleOutput', 'listSnapshots', 'getMigrationProgress', 'watchEvents'] as const,
  ...['describeVifPlugin', 'listPlugged', 'describeVolumeConnector', 'getConnector', 'listConnected'] as const,
];

const GRANTS: { readonly [R in Exclude<Role, 'compute'>]: readonly RpcName[] } = {
  network: [...READS, 'attachInterface', 'detachInterface', 'plug', 'unplug'],
  volume: [...READS, 'attachVolume', 'detachVolume', 'extendVolume', 'connect', 'disconnect', 'extend'],
  reader: READS,
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Whether a caller holding `roles` may call `rpc`. */
export function permits(roles: ReadonlySet<Role>, rpc: RpcName): boolean {
  if (roles.has('compute')) return true;
  for (const role of roles) if (role !== 'compute' && GRANTS[role].includes(rpc)) return true;
  return false;
}

/** The prefix of a role in a certificate's URI SAN: `nova-common:role:network`. */
export const ROLE_URI_PREFIX = 'nova-common:role:';

function asList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * The roles a client certificate names: each subject OU that is a role, and each URI SAN
 * `nova-common:role:<role>`. Anything else in them is ignored; no role, no access.
 */
export function rolesOfCertificate(cert: PeerCertificate | undefined): Set<Role> {
  const roles = new Set<Role>();
  if (cert === undefined || cert === null) return roles;
  for (const ou of asList(cert.subject?.OU as string | string[] | undefined)) if (isRole(ou)) roles.add(ou);
  for (const entry of (cert.subjectaltname ?? '').split(/,\s*/)) {
    if (!entry.startsWith('URI:')) continue;
    const uri = entry.slice(4);
    if (uri.startsWith(ROLE_URI_PREFIX)) {
      const role = uri.slice(ROLE_URI_PREFIX.length);
      if (isRole(role)) roles.add(role);
    }
  }
  return roles;
}

/** Who a certificate names, for the logs: its subject CN, else its fingerprint. */
export function certificateName(cert: PeerCertificate | undefined): string | undefined {
  if (cert === undefined || cert === null) return undefined;
  const cn = asList(cert.subject?.CN as string | string[] | undefined)[0];
  return cn ?? cert.fingerprint256;
}
