import { XdrEncoder } from '../xdr/encoder.js';
import { writeDomain, type DomainRef } from './remote-types.js';
import { writeTypedParams, type TypedParam } from './typed-params.js';

/** virDomainMigrateFlags (include/libvirt/libvirt-domain.h). */
export const MigrateFlags = {
  LIVE: 1,
  PEER2PEER: 2,
  TUNNELLED: 4,
  PERSIST_DEST: 8,
  UNDEFINE_SOURCE: 16,
  PAUSED: 32,
  NON_SHARED_DISK: 64,
  NON_SHARED_INC: 128,
  CHANGE_PROTECTION: 256,
  UNSAFE: 512,
  OFFLINE: 1024,
} as const;

/** VIR_MIGRATE_PARAM_* names. */
export const MigrateParam = {
  URI: 'migrate_uri',
  LISTEN_ADDRESS: 'listen_address',
  DEST_XML: 'destination_xml',
  PERSIST_XML: 'persistent_xml',
  DISKS_PORT: 'disks_port',
  MIGRATE_DISKS: 'migrate_disks',
  BANDWIDTH: 'bandwidth',
} as const;

/** virDomainGetJobStatsFlags */
export const JobStatsFlags = { COMPLETED: 1, KEEP_COMPLETED: 2 } as const;

/** virDomainGetXMLFlags: a definition the destination can take (no runtime-only parts). */
export const XML_MIGRATABLE = 8;

/** REMOTE_MIGRATE_COOKIE_MAX */
const COOKIE_MAX = 4_194_304;

/**
 * remote_domain_migrate_perform3_params_args (procedure 305), as a client sends it for a
 * peer-to-peer migration (virDomainMigrateToURI3): the source daemon then runs the whole
 * protocol with the destination (`dconnuri`) itself. A client sends no cookie.
 */
export function encodePerform3ParamsArgs(dom: DomainRef, dconnuri: string | null, params: readonly TypedParam[], flags: number): Buffer {
  const e = new XdrEncoder(256);
  writeDomain(e, dom);
  e.optional(dconnuri, (x, v) => x.string(v));
  writeTypedParams(e, params);
  e.opaque(Buffer.alloc(0), COOKIE_MAX);
  e.uint(flags);
  return e.toBuffer();
}
