import { EventEmitter } from 'node:events';
import { XdrDecoder } from './xdr/decoder.js';
import { XdrEncoder } from './xdr/encoder.js';
import { LibvirtConnection, type CallOptions, type ConnectionOptions } from './connection.js';
import { Proc } from './protocol/procedures.js';
import { encodePerform3ParamsArgs } from './protocol/migrate-args.js';
import { readTypedParams, type TypedParam } from './protocol/typed-params.js';
import { QEMU_PROC_DOMAIN_MONITOR_COMMAND, QEMU_PROGRAM } from './protocol/header.js';
import {
  Flags,
  readDomain,
  readNodeInfo,
  readSnapshot,
  uuidToBytes,
  writeDomain,
  writeSnapshot,
  type DomainRef,
  type LifecycleMessage,
  type NodeInfoRet,
  type SnapshotRef,
} from './protocol/remote-types.js';

const EVENT_ID_LIFECYCLE = 0;

function enc(): XdrEncoder {
  return new XdrEncoder(128);
}

function domArgs(dom: DomainRef): XdrEncoder {
  const e = enc();
  writeDomain(e, dom);
  return e;
}

export interface ClientEvents {
  lifecycle: [LifecycleMessage];
  open: [{ reconnect: boolean }];
  lost: [Error];
}

/**
 * Typed procedures of libvirt's remote program over one LibvirtConnection. Each method is
 * one round trip; errors are the connection's typed errors (LibvirtError carries libvirt's
 * code). Lifecycle callbacks are re-registered by itself after a reconnect.
 */
export class LibvirtClient extends EventEmitter<ClientEvents> {
  readonly connection: LibvirtConnection;
  private lifecycleWanted = false;
  private lifecycleCallbackId: number | undefined;

  constructor(options: Partial<ConnectionOptions> & Pick<ConnectionOptions, 'socketPath' | 'uri'>) {
    super();
    this.connection = new LibvirtConnection(options);
    this.connection.on('lifecycle', (m) => {
      if (m.callbackId === this.lifecycleCallbackId) this.emit('lifecycle', m);
    });
    this.connection.on('lost', (err) => {
      this.lifecycleCallbackId = undefined;
      this.emit('lost', err);
    });
    this.connection.on('open', (info) => {
      if (info.reconnect) {
        this.ensureLifecycle().catch(() => {
          /* the next connect() retries */
        });
      }
      this.emit('open', info);
    });
    // Errors are delivered to the calls; keep EventEmitter from throwing on 'error'.
    this.connection.on('error', () => undefined);
  }

  /** Connect (or check the connection) and make sure wanted event callbacks are registered. */
  async connect(): Promise<void> {
    await this.connection.connect();
    await this.ensureLifecycle();
  }

  private registering: Promise<void> | undefined;

  private ensureLifecycle(): Promise<void> {
    if (!this.lifecycleWanted || this.lifecycleCallbackId !== undefined) return Promise.resolve();
    this.registering ??= this.registerLifecycleNow().finally(() => {
      this.registering = undefined;
    });
    return this.registering;
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  /** Connected, with the wanted event callbacks registered: connect() would send nothing. */
  get isReady(): boolean {
    return this.connection.isOpen && (!this.lifecycleWanted || this.lifecycleCallbackId !== undefined);
  }

  /** Remote procedure calls sent so far (the handshake not counted): what benchmarks count per operation. */
  get callCount(): number {
    return this.connection.callCount;
  }

  /** A handle for a domain known by name and uuid; the daemon resolves it by uuid. */
  static ref(name: string, uuid: string): DomainRef {
    return { name, uuid: uuidToBytes(uuid), id: -1 };
  }

  private call(proc: number, body: XdrEncoder | undefined, o?: CallOptions): Promise<Buffer> {
    return this.connection.call(proc, body?.toBuffer(), o);
  }

  // ---- connection / node -------------------------------------------------------------

  async nodeGetInfo(o?: CallOptions): Promise<NodeInfoRet> {
    return readNodeInfo(new XdrDecoder(await this.call(Proc.NODE_GET_INFO, undefined, o)));
  }

  async getHostname(o?: CallOptions): Promise<string> {
    return new XdrDecoder(await this.call(Proc.CONNECT_GET_HOSTNAME, undefined, o)).string();
  }

  async listAllDomains(flags = 0, o?: CallOptions): Promise<DomainRef[]> {
    const body = await this.call(Proc.CONNECT_LIST_ALL_DOMAINS, enc().int(1).uint(flags), o);
    const dec = new XdrDecoder(body);
    const doms = dec.array(readDomain);
    dec.uint();
    return doms;
  }

  // ---- domains -----------------------------------------------------------------------

  async lookupByUuid(uuid: string, o?: CallOptions): Promise<DomainRef> {
    return readDomain(new XdrDecoder(await this.call(Proc.DOMAIN_LOOKUP_BY_UUID, enc().fixedOpaque(uuidToBytes(uuid), 16), o)));
  }

  async lookupByName(name: string, o?: CallOptions): Promise<DomainRef> {
    return readDomain(new XdrDecoder(await this.call(Proc.DOMAIN_LOOKUP_BY_NAME, enc().string(name), o)));
  }

  /** Start a transient domain from its XML (it goes away when it stops, unless defined meanwhile). */
  async createXml(xml: string, flags = 0, o?: CallOptions): Promise<DomainRef> {
    return readDomain(new XdrDecoder(await this.call(Proc.DOMAIN_CREATE_XML, enc().string(xml).uint(flags), o)));
  }

  async defineXml(xml: string, flags = 0, o?: CallOptions): Promise<DomainRef> {
    return readDomain(new XdrDecoder(await this.call(Proc.DOMAIN_DEFINE_XML_FLAGS, enc().string(xml).uint(flags), o)));
  }

  async create(dom: DomainRef, flags = 0, o?: CallOptions): Promise<DomainRef> {
    return readDomain(new XdrDecoder(await this.call(Proc.DOMAIN_CREATE_WITH_FLAGS, domArgs(dom).uint(flags), o)));
  }

  async destroy(dom: DomainRef, flags: number = Flags.DESTROY_DEFAULT, o?: CallOptions): Promise<void> {
    await this.call(Proc.DOMAIN_DESTROY_FLAGS, domArgs(dom).uint(flags), o);
  }

  async undefine(dom: DomainRef, flags = 0, o?: CallOptions): Promise<void> {
    await this.call(Proc.DOMAIN_UNDEFINE_FLAGS, domArgs(dom).uint(flags), o);
  }

  async getState(dom: DomainRef, o?: CallOptions): Promise<{ state: number; reason: number }> {
    const dec = new XdrDecoder(await this.call(Proc.DOMAIN_GET_STATE, domArgs(dom).uint(0), o));
    return { state: dec.int(), reason: dec.int() };
  }

  async getXmlDesc(dom: DomainRef, flags = 0, o?: CallOptions): Promise<string> {
    return new XdrDecoder(await this.call(Proc.DOMAIN_GET_XML_DESC, domArgs(dom).uint(flags), o)).string();
  }

  async suspend(dom: DomainRef, o?: CallOptions): Promise<void> {
    await this.call(Proc.DOMAIN_SUSPEND, domArgs(dom), o);
  }

  async resume(dom: DomainRef, o?: CallOptions): Promise<void> {
    await this.call(Proc.DOMAIN_RESUME, domArgs(dom), o);
  }

  async shutdown(dom: DomainRef, flags = 0, o?: CallOptions): Promise<void> {
    await this.call(Proc.DOMAIN_SHUTDOWN_FLAGS, domArgs(dom).uint(flags), o);
  }

  async managedSave(dom: DomainRef, flags = 0, o?: CallOptions): Promise<void> {
    await this.call(Proc.DOMAIN_MANAGED_SAVE, domArgs(dom).uint(flags), o);
  }

  async hasManagedSaveImage(dom: DomainRef, o?: CallOptions): Promise<boolean> {
    return new XdrDecoder(await this.call(Proc.DOMAIN_HAS_MANAGED_SAVE_IMAGE, domArgs(dom).uint(0), o)).int() !== 0;
  }

  async managedSaveRemove(dom: DomainRef, o?: CallOptions): Promise<void> {
    await this.call(Proc.DOMAIN_MANAGED_SAVE_REMOVE, domArgs(dom).uint(0), o);
  }

  async attachDevice(dom: DomainRef, xml: string, flags: number, o?: CallOptions): Promise<void> {
    await this.call(Proc.DOMAIN_ATTACH_DEVICE_FLAGS, domArgs(dom).string(xml).uint(flags), o);
  }

  async detachDevice(dom: DomainRef, xml: string, flags: number, o?: CallOptions): Promise<void> {
    await this.call(Proc.DOMAIN_DETACH_DEVICE_FLAGS, domArgs(dom).string(xml).uint(flags), o);
  }

  /** Resize a running domain's disk (its target, `vdb`) to `bytes` (virDomainBlockResize with VIR_DOMAIN_BLOCK_RESIZE_BYTES). */
  async blockResize(dom: DomainRef, disk: string, bytes: bigint, o?: CallOptions): Promise<void> {
    await this.call(Proc.DOMAIN_BLOCK_RESIZE, domArgs(dom).string(disk).uhyper(bytes).uint(Flags.BLOCK_RESIZE_BYTES), o);
  }

  /** A QMP command to the domain's QEMU monitor (virDomainQemuMonitorCommand); resolves with QEMU's JSON answer. */
  async qemuMonitorCommand(dom: DomainRef, command: string, o?: CallOptions): Promise<string> {
    const body = await this.call(QEMU_PROC_DOMAIN_MONITOR_COMMAND, domArgs(dom).string(command).int(0), { ...o, program: QEMU_PROGRAM });
    return new XdrDecoder(body).string();
  }

  async setMetadata(dom: DomainRef, xml: string | null, key: string, uri: string, flags: number, o?: CallOptions): Promise<void> {
    const e = domArgs(dom)
      .int(Flags.METADATA_ELEMENT)
      .optional(xml, (x, v) => x.string(v))
      .optional(key, (x, v) => x.string(v))
      .optional(uri, (x, v) => x.string(v))
      .uint(flags);
    await this.call(Proc.DOMAIN_SET_METADATA, e, o);
  }

  async getMetadata(dom: DomainRef, uri: string, flags = 0, o?: CallOptions): Promise<string> {
    const e = domArgs(dom)
      .int(Flags.METADATA_ELEMENT)
      .optional(uri, (x, v) => x.string(v))
      .uint(flags);
    return new XdrDecoder(await this.call(Proc.DOMAIN_GET_METADATA, e, o)).string();
  }

  /** Wake a guest that put itself to sleep (PMSUSPENDED); libvirt returns before the guest runs. */
  async pmWakeup(dom: DomainRef, o?: CallOptions): Promise<void> {
    await this.call(Proc.DOMAIN_PM_WAKEUP, domArgs(dom).uint(0), o);
  }

  async snapshotCreateXml(dom: DomainRef, xml: string, flags = 0, o?: CallOptions): Promise<SnapshotRef> {
    return readSnapshot(new XdrDecoder(await this.call(Proc.DOMAIN_SNAPSHOT_CREATE_XML, domArgs(dom).string(xml).uint(flags), o)));
  }

  async snapshotLookupByName(dom: DomainRef, name: string, o?: CallOptions): Promise<SnapshotRef> {
    return readSnapshot(new XdrDecoder(await this.call(Proc.DOMAIN_SNAPSHOT_LOOKUP_BY_NAME, domArgs(dom).string(name).uint(0), o)));
  }

  async snapshotDelete(snap: SnapshotRef, flags = 0, o?: CallOptions): Promise<void> {
    const e = enc();
    writeSnapshot(e, snap);
    await this.call(Proc.DOMAIN_SNAPSHOT_DELETE, e.uint(flags), o);
  }

  // ---- migration and jobs -----------------------------------------------------------

  /**
   * Peer-to-peer migration (DOMAIN_MIGRATE_PERFORM3_PARAMS with PEER2PEER): the daemon talks
   * to `dconnuri` itself and the call returns when the migration is over. Pass a timeout
   * long enough for the copy; abort with abortJob from another call, not by dropping this one.
   */
  async migratePerform3Params(dom: DomainRef, dconnuri: string, params: readonly TypedParam[], flags: number, o?: CallOptions): Promise<void> {
    await this.connection.call(Proc.DOMAIN_MIGRATE_PERFORM3_PARAMS, encodePerform3ParamsArgs(dom, dconnuri, params, flags), o);
  }

  /** Abort the domain's current job (a migration): the job fails with OPERATION_ABORTED. */
  async abortJob(dom: DomainRef, o?: CallOptions): Promise<void> {
    await this.call(Proc.DOMAIN_ABORT_JOB, domArgs(dom), o);
  }

  /** The domain's job statistics (flags: JobStatsFlags): its type and typed parameters. */
  async getJobStats(dom: DomainRef, flags = 0, o?: CallOptions): Promise<{ type: number; params: TypedParam[] }> {
    const dec = new XdrDecoder(await this.call(Proc.DOMAIN_GET_JOB_STATS, domArgs(dom).uint(flags), o));
    return { type: dec.int(), params: readTypedParams(dec) };
  }

  // ---- events ------------------------------------------------------------------------

  /**
   * Ask for lifecycle events of every domain (filtered by the caller): registered now when
   * connected, else by connect(); kept across reconnects.
   */
  registerLifecycle(): Promise<void> {
    this.lifecycleWanted = true;
    return this.connection.isOpen ? this.ensureLifecycle() : Promise.resolve();
  }

  /** Whether lifecycle events are asked for. */
  get wantsLifecycle(): boolean {
    return this.lifecycleWanted;
  }

  private async registerLifecycleNow(): Promise<void> {
    const body = await this.call(Proc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, enc().int(EVENT_ID_LIFECYCLE).optional(null, () => undefined));
    this.lifecycleCallbackId = new XdrDecoder(body).int();
  }

  async deregisterLifecycle(o?: CallOptions): Promise<void> {
    this.lifecycleWanted = false;
    const id = this.lifecycleCallbackId;
    this.lifecycleCallbackId = undefined;
    if (id !== undefined && this.connection.isOpen) {
      await this.call(Proc.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, enc().int(id), o);
    }
  }
}
