import { XdrDecoder } from '../xdr/decoder.js';
import { XdrEncoder } from '../xdr/encoder.js';

/** remote_nonnull_domain: libvirt's handle on a domain. `id` is -1 when inactive. */
export interface DomainRef {
  name: string;
  /** 16 raw bytes. */
  uuid: Buffer;
  id: number;
}

/** remote_error, with the fields a caller needs. */
export interface RemoteError {
  code: number;
  domain: number;
  message: string | null;
  level: number;
  str1: string | null;
  int1: number;
}

/** remote_node_get_info_ret */
export interface NodeInfoRet {
  model: string;
  /** KiB */
  memoryKib: bigint;
  cpus: number;
  mhz: number;
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

/** Lifecycle event message (remote_domain_event_callback_lifecycle_msg). */
export interface LifecycleMessage {
  callbackId: number;
  dom: DomainRef;
  event: number;
  detail: number;
}

export function uuidToBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError(`not a uuid: ${uuid}`);
  return Buffer.from(hex, 'hex');
}

export function bytesToUuid(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function writeDomain(enc: XdrEncoder, dom: DomainRef): void {
  enc.string(dom.name).fixedOpaque(dom.uuid, 16).int(dom.id);
}

export function readDomain(dec: XdrDecoder): DomainRef {
  return { name: dec.string(), uuid: dec.fixedOpaque(16), id: dec.int() };
}

function readNetwork(dec: XdrDecoder): void {
  dec.string();
  dec.fixedOpaque(16);
}

export function readRemoteError(dec: XdrDecoder): RemoteError {
  const code = dec.int();
  const domain = dec.int();
  const message = dec.optional((d) => d.string());
  const level = dec.int();
  dec.optional(readDomain);
  const str1 = dec.optional((d) => d.string());
  dec.optional((d) => d.string());
  dec.optional((d) => d.string());
  const int1 = dec.int();
  dec.int();
  dec.optional(readNetwork);
  return { code, domain, message, level, str1, int1 };
}

export function readNodeInfo(dec: XdrDecoder): NodeInfoRet {
  // char model[32]: a fixed array of 32 XDR chars, each one 4-byte int.
  const chars: number[] = [];
  for (let i = 0; i < 32; i++) chars.push(dec.int());
  const end = chars.indexOf(0);
  const model = Buffer.from((end >= 0 ? chars.slice(0, end) : chars).map((c) => c & 0xff)).toString('latin1');
  return {
    model,
    memoryKib: dec.uhyper(),
    cpus: dec.int(),
    mhz: dec.int(),
    nodes: dec.int(),
    sockets: dec.int(),
    cores: dec.int(),
    threads: dec.int(),
  };
}

/** remote_nonnull_domain_snapshot: a snapshot handle, its name and its domain. */
export interface SnapshotRef {
  name: string;
  dom: DomainRef;
}

export function writeSnapshot(enc: XdrEncoder, snap: SnapshotRef): void {
  enc.string(snap.name);
  writeDomain(enc, snap.dom);
}

export function readSnapshot(dec: XdrDecoder): SnapshotRef {
  return { name: dec.string(), dom: readDomain(dec) };
}

export function readLifecycleMessage(dec: XdrDecoder): LifecycleMessage {
  const callbackId = dec.int();
  const dom = readDomain(dec);
  return { callbackId, dom, event: dec.int(), detail: dec.int() };
}

/** virDomainState */
export const DomainState = {
  NOSTATE: 0,
  RUNNING: 1,
  BLOCKED: 2,
  PAUSED: 3,
  SHUTDOWN: 4,
  SHUTOFF: 5,
  CRASHED: 6,
  PMSUSPENDED: 7,
} as const;

/** virDomainEventType (lifecycle event) */
export const DomainEvent = {
  DEFINED: 0,
  UNDEFINED: 1,
  STARTED: 2,
  SUSPENDED: 3,
  RESUMED: 4,
  STOPPED: 5,
  SHUTDOWN: 6,
  PMSUSPENDED: 7,
  CRASHED: 8,
} as const;

/**
 * virDomainShutoffReason: why a shut-off domain is off. A QEMU process that died without being
 * asked (killed, or failing) leaves CRASHED (or FAILED); libvirt keeps the reason until the
 * domain starts again or the daemon restarts (inactive domains load with UNKNOWN).
 */
export const ShutoffReason = { UNKNOWN: 0, SHUTDOWN: 1, DESTROYED: 2, CRASHED: 3, MIGRATED: 4, SAVED: 5, FAILED: 6, FROM_SNAPSHOT: 7, DAEMON: 8 } as const;

/** virDomainEventStoppedDetailType: the detail of a STOPPED event. */
export const StoppedDetail = { SHUTDOWN: 0, DESTROYED: 1, CRASHED: 2, MIGRATED: 3, SAVED: 4, FAILED: 5, FROM_SNAPSHOT: 6 } as const;

/** The flags this driver passes (virDomainModificationImpact, virDomainUndefineFlagsValues, ...). */
export const Flags = {
  AFFECT_LIVE: 1,
  AFFECT_CONFIG: 2,
  UNDEFINE_MANAGED_SAVE: 1,
  UNDEFINE_SNAPSHOTS_METADATA: 2,
  DOMAIN_XML_INACTIVE: 2,
  DESTROY_DEFAULT: 0,
  METADATA_ELEMENT: 2,
  LIST_DOMAINS_PERSISTENT: 4,
  LIST_DOMAINS_TRANSIENT: 8,
  /** virDomainCreateFlags: start with vCPUs paused (also restores a managed save image paused). */
  START_PAUSED: 1,
  /** virDomainSaveRestoreFlags: the image resumes running when restored, whatever the domain was. */
  SAVE_RUNNING: 2,
  /** virDomainBlockResizeFlags: the size is in bytes, not KiB. */
  BLOCK_RESIZE_BYTES: 1,
} as const;

/** virErrorNumber values the mapping distinguishes (include/libvirt/virterror.h). */
export const VirErr = {
  INTERNAL_ERROR: 1,
  NO_SUPPORT: 3,
  INVALID_CONN: 6,
  INVALID_DOMAIN: 7,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  XML_ERROR: 27,
  DOM_EXIST: 28,
  OPERATION_DENIED: 29,
  SYSTEM_ERROR: 38,
  RPC: 39,
  NO_DOMAIN: 42,
  OPERATION_INVALID: 55,
  CONFIG_UNSUPPORTED: 67,
  OPERATION_TIMEOUT: 68,
  NO_DOMAIN_SNAPSHOT: 72,
  ARGUMENT_UNSUPPORTED: 74,
  OPERATION_ABORTED: 78,
  NO_DOMAIN_METADATA: 80,
  OPERATION_UNSUPPORTED: 84,
  AGENT_UNRESPONSIVE: 86,
  RESOURCE_BUSY: 87,
  ACCESS_DENIED: 88,
  XML_INVALID_SCHEMA: 92,
  DEVICE_MISSING: 99,
} as const;
