import {
  enforceCell,
  type CellDecision,
  type CallOptions,
  type InstanceInfo,
  type InstanceSummary,
  type OperationName,
  type OutcomeContext,
  type SemanticState,
  type TableOperation,
} from '@nova-common/core';
import { DomainState, Flags, VirErr, type DomainRef } from '../client/protocol/remote-types.js';
import { isLibvirtCode, toContractError } from '../mapping/errors.js';
import type { InstanceRecord } from '../mapping/instance-record.js';
import { arrivalKinds, requestedKinds } from '../mapping/requested-events.js';
import { powerStateOf, semanticStateOf } from '../mapping/state.js';
import { parseDomainXml, type ParsedDomain } from '../mapping/xml-read.js';
import type { DriverContext } from './context.js';
import { ensureReady } from './readiness.js';
import { noteOwned, readRecord } from './records.js';

/** What an operation reads about one of its instances before acting on it. */
export interface Loaded {
  ref: DomainRef;
  /** libvirt's virDomainState and its reason. */
  state: number;
  reason: number;
  /** Whether a managed save image exists (read only when the domain is shut off). */
  managedSave: boolean;
  /** The live XML: what the hypervisor has now (devices included). */
  domain: ParsedDomain;
  record: InstanceRecord;
  semantic: Exclude<SemanticState, 'ABSENT'>;
}

function callOptions(signal: AbortSignal | undefined): { signal: AbortSignal } | undefined {
  return signal ? { signal } : undefined;
}

/**
 * Read an instance: DOMAIN_GET_STATE and the live XML with both calls in flight at once,
 * plus DOMAIN_HAS_MANAGED_SAVE_IMAGE when it is shut off. Undefined when the domain does not
 * exist or is not this driver's (its name, ownership marker and prefix are checked in the
 * XML just read).
 */
export async function load(ctx: DriverContext, uuid: string, signal?: AbortSignal): Promise<Loaded | undefined> {
  const ref = ctx.ref(uuid);
  const o = callOptions(signal);
  let st: { state: number; reason: number };
  let xml: string;
  try {
    [st, xml] = await Promise.all([ctx.client.getState(ref, o), ctx.client.getXmlDesc(ref, 0, o)]);
  } catch (err) {
    if (isLibvirtCode(err, VirErr.NO_DOMAIN)) return undefined;
    throw err;
  }
  const found = owned(ctx, uuid, ref, parseDomainXml(xml));
  if (!found) return undefined;
  const { domain, record } = found;
  const managedSave = st.state === DomainState.SHUTOFF ? await ctx.client.hasManagedSaveImage(ref, o) : false;
  const power = powerStateOf(st.state, managedSave, st.reason);
  // The first state read of an instance is what a later reconnect compares with (events keep it current).
  if (ctx.client.wantsLifecycle && !ctx.announced.has(uuid)) ctx.announced.set(uuid, power);
  return {
    ref,
    state: st.state,
    reason: st.reason,
    managedSave,
    domain,
    record,
    semantic: semanticStateOf(power, record.mode),
  };
}

/** What destroy reads: the domain's live XML only (ownership, and whether it runs). */
export interface Identified {
  ref: DomainRef;
  domain: ParsedDomain;
  record: InstanceRecord;
}

/** Read an instance's live XML only (one DOMAIN_GET_XML_DESC); undefined when absent or not ours. */
export async function identify(ctx: DriverContext, uuid: string, signal?: AbortSignal): Promise<Identified | undefined> {
  const ref = ctx.ref(uuid);
  let xml: string;
  try {
    xml = await ctx.client.getXmlDesc(ref, 0, callOptions(signal));
  } catch (err) {
    if (isLibvirtCode(err, VirErr.NO_DOMAIN)) return undefined;
    throw err;
  }
  return owned(ctx, uuid, ref, parseDomainXml(xml));
}

/** The domain with its record when it is this driver's: named as it names domains, carrying its marker and prefix. */
function owned(ctx: DriverContext, uuid: string, ref: DomainRef, domain: ParsedDomain): Identified | undefined {
  const record = domain.record;
  if (!record || !ctx.isInstanceName(uuid, domain.name) || record.ownerPrefix !== ctx.config.namePrefix) return undefined;
  noteOwned(ctx, record);
  return { ref, domain, record };
}

/**
 * The shape of every instance operation: connect, read the instance, let core's semantics
 * table decide (the action gets the cell: where the operation leads) (enforceCell throws the table's error: INSTANCE_NOT_FOUND, INVALID_STATE, a
 * device precondition), then act unless the cell is a no-op. Resolves to what `action`
 * returns, or undefined for a no-op. While the action runs, the events it can cause count as
 * requested (RequestedTransitions).
 */
export async function withInstance<T>(
  ctx: DriverContext,
  op: OperationName,
  column: TableOperation,
  uuid: string,
  options: CallOptions | undefined,
  action: (l: Loaded, cell: CellDecision) => Promise<T>,
  deviceContext?: (l: Loaded) => OutcomeContext,
): Promise<T | undefined> {
  await ensureReady(ctx, op);
  let loaded: Loaded | undefined;
  try {
    loaded = await load(ctx, uuid, options?.signal);
  } catch (err) {
    throw toContractError(err, op, uuid);
  }
  const ctxOfCell = loaded && deviceContext ? deviceContext(loaded) : undefined;
  const cell = enforceCell(loaded ? loaded.semantic : 'ABSENT', column, { op, uuid, ...(ctxOfCell ? { ctx: ctxOfCell } : {}) });
  if (cell.noop || !loaded) return undefined;
  const end = ctx.requested.begin(uuid, requestedKinds(column, loaded.semantic));
  try {
    const result = await action(loaded, cell);
    end(arrivalKinds(cell.to));
    return result;
  } catch (err) {
    end();
    throw toContractError(err, op, uuid);
  }
}

function byKey<T>(key: (x: T) => string): (a: T, b: T) => number {
  return (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

/** The contract's view of a loaded instance; devices count only when the live XML has them. */
export function info(ctx: DriverContext, l: Loaded): InstanceInfo {
  const r = l.record;
  const liveSerials = new Set(l.domain.disks.map((d) => d.serial?.toLowerCase()).filter((s): s is string => s !== undefined));
  const liveMacs = new Set(l.domain.interfaces.map((i) => i.mac));
  // In rescue mode the domain leaves the volumes out (the rescue guest gets only the rescue and
  // root disks); they stay attached to the instance and return with unrescue.
  const volumes = r.volumes
    .filter((v) => r.mode === 'rescue' || liveSerials.has(v.id))
    .map((v) => ({ volumeId: v.id, ...(v.deviceName !== undefined ? { deviceName: v.deviceName } : {}), ...(v.sizeGb !== undefined ? { sizeGb: v.sizeGb } : {}) }))
    .sort(byKey((v) => v.volumeId));
  const interfaces = r.interfaces
    .filter((n) => liveMacs.has(n.mac))
    .map((n) => ({ id: n.id, address: n.address ?? n.mac }))
    .sort(byKey((n) => n.id));
  return {
    uuid: r.uuid,
    name: r.name,
    powerState: powerStateOf(l.state, l.managedSave, l.reason),
    mode: l.semantic === 'RESCUE' ? 'rescue' : 'normal',
    node: ctx.nodeName,
    metadata: { ...r.metadata },
    volumes,
    interfaces,
  };
}

export async function getInfo(ctx: DriverContext, uuid: string, options?: CallOptions): Promise<InstanceInfo> {
  // getInfo on an absent instance is the table's INSTANCE_NOT_FOUND, so a result is always there.
  return (await withInstance(ctx, 'getInfo', 'getInfo', uuid, options, async (l) => info(ctx, l)))!;
}

/**
 * This driver's instances: persistent domains named like ours whose metadata carries the
 * ownership marker (one CONNECT_LIST_ALL_DOMAINS, then one metadata read per such domain, all
 * in flight at once). A transient domain is a spawn not finished yet, so it is not listed.
 */
export async function listRecords(ctx: DriverContext, signal?: AbortSignal): Promise<InstanceRecord[]> {
  const doms = await ctx.client.listAllDomains(Flags.LIST_DOMAINS_PERSISTENT, callOptions(signal));
  const records = await Promise.all(
    doms.map((d) => {
      const uuid = ctx.instanceUuidOf(d);
      return uuid === undefined ? undefined : readRecord(ctx, d, uuid, signal);
    }),
  );
  return records.filter((r): r is InstanceRecord => !!r);
}

export async function listInstances(ctx: DriverContext, options?: CallOptions): Promise<InstanceSummary[]> {
  await ensureReady(ctx, 'listInstances');
  try {
    const records = await listRecords(ctx, options?.signal);
    return records.map((r) => ({ uuid: r.uuid, name: r.name, node: ctx.nodeName, metadata: { ...r.metadata } }));
  } catch (err) {
    throw toContractError(err, 'listInstances');
  }
}
