/**
 * What the driver writes on a node: Nova's instance_info fields (image, sizes, display name,
 * capabilities, traits), the image details Ironic needs for non-Glance sources (image-source.ts),
 * plus this driver's ownership record under instance_info.nova_common.
 *
 * Only those keys are the driver's: every PATCH adds, replaces or removes them one by one
 * (`/instance_info/<key>`), as Nova's patcher does, never the whole instance_info, so keys an
 * operator set on the node stay. Their values before the reservation are kept in the record
 * (`operatorInfo`): releasing a node that was never deployed puts back the values of keys the
 * driver had overwritten, and after a teardown (Ironic clears all of instance_info itself) the
 * driver writes them back once the node is free again (teardown.ts).
 */
import { z } from 'zod';
import type { AttachedInterface, Flavor, ImageMeta, InstanceSpec } from '@nova-common/core';
import type { IronicNode, JsonPatchOp } from '../client/types.js';
import { IMAGE_DETAIL_KEYS, imageSource, type ImageDetails } from './image-source.js';

export { imageSource } from './image-source.js';

const OWNER_KEY = 'nova_common';

/** Nova's instance_info fields the driver writes (nova/virt/ironic/patcher.py). */
const NOVA_KEYS = ['image_source', 'image_disk_format', 'root_gb', 'swap_mb', 'ephemeral_gb', 'display_name', 'vcpus', 'memory_mb', 'local_gb', 'ephemeral_format', 'capabilities', 'traits', 'preserve_ephemeral'] as const;

/** Every instance_info key this driver owns; nothing else in instance_info is ever changed. */
export const DRIVER_KEYS: readonly string[] = [...NOVA_KEYS, ...IMAGE_DETAIL_KEYS, OWNER_KEY];

/** How Ironic shows a value it hides (passwords, the config drive): it cannot be written back. */
const MASKED = '******';

const OwnerRecordSchema = z.object({
  owner: z.string(),
  name: z.string(),
  metadata: z.record(z.string(), z.string()),
  flavorId: z.string(),
  imageId: z.string(),
  vifs: z.array(z.object({ id: z.string(), address: z.string() })),
  /** The node's instance_info entries before the reservation (an operator's), put back on release. */
  operatorInfo: z.record(z.string(), z.unknown()).default({}),
  /**
   * The process that reserved the node (core's currentHolder): a reservation left on an
   * `available` node by a process that has died is a spawn killed before its deploy began.
   */
  holder: z.string().optional(),
});
export type OwnerRecord = z.infer<typeof OwnerRecordSchema>;

export interface InstanceInfoOptions {
  hostId: string;
  /** The reserving process (core's currentHolder); '' or absent where it cannot be told. */
  holder?: string;
  imageSourceTemplate: string;
}

/** Required traits of a flavor: extra specs `trait:<TRAIT>=required` (Nova's convention). */
export function requiredTraits(flavor: Flavor): string[] {
  return Object.entries(flavor.extraSpecs)
    .filter(([k, v]) => k.startsWith('trait:') && v === 'required')
    .map(([k]) => k.slice('trait:'.length))
    .sort();
}

/** Flavor extra specs `capabilities:<key>=<value>` (boot_mode, disk_label, ...), as Nova passes them. */
function capabilities(flavor: Flavor): Record<string, string> {
  const caps: Record<string, string> = {};
  for (const [k, v] of Object.entries(flavor.extraSpecs)) if (k.startsWith('capabilities:')) caps[k.slice('capabilities:'.length)] = v;
  return caps;
}

/** The node's instance_info entries that can be written back (Ironic's masked values cannot). */
export function operatorInfoOf(node: Pick<IronicNode, 'instance_info'> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node?.instance_info ?? {})) if (k !== OWNER_KEY && v !== MASKED) out[k] = v;
  return out;
}

export function ownerRecordOf(spec: InstanceSpec, hostId: string, operatorInfo: Record<string, unknown> = {}, holder?: string): OwnerRecord {
  return {
    ...(holder ? { holder } : {}),
    owner: hostId,
    name: spec.name,
    metadata: { ...spec.metadata },
    flavorId: spec.flavor.id,
    imageId: spec.image.id,
    vifs: spec.networkInfo.map((v) => ({ id: v.id, address: v.address.toLowerCase() })).sort(byId),
    operatorInfo,
  };
}

function imageFields(image: ImageMeta, o: InstanceInfoOptions, details: ImageDetails): Record<string, string> {
  return { image_source: imageSource(o.imageSourceTemplate, image.id), image_disk_format: image.diskFormat, ...details };
}

/** The driver's instance_info entries for a new instance: Nova's fields (values as strings, like Nova's patcher), image details, the record. */
function buildInstanceInfo(spec: InstanceSpec, o: InstanceInfoOptions, details: ImageDetails, operatorInfo: Record<string, unknown>): Record<string, unknown> {
  const f = spec.flavor;
  const info: Record<string, unknown> = {
    ...imageFields(spec.image, o, details),
    root_gb: String(f.rootGb),
    swap_mb: String(f.swapMb),
    ephemeral_gb: String(f.ephemeralGb),
    display_name: spec.name,
    vcpus: String(f.vcpus),
    memory_mb: String(f.memoryMb),
    local_gb: String(f.rootGb),
  };
  const eph = spec.blockDeviceInfo.ephemerals[0]?.guestFormat;
  if (f.ephemeralGb > 0 && eph) info.ephemeral_format = eph;
  const caps = capabilities(f);
  if (Object.keys(caps).length > 0) info.capabilities = JSON.stringify(caps);
  const traits = requiredTraits(f);
  if (traits.length > 0) info.traits = traits;
  info[OWNER_KEY] = ownerRecordOf(spec, o.hostId, operatorInfo, o.holder);
  return info;
}

/** JSON pointer of an instance_info key (RFC 6901 escaping of `~` and `/`). */
export function infoPath(key: string): string {
  return `/instance_info/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/**
 * One PATCH that reserves `node` for the instance and adds the driver's instance_info keys, one
 * operation per key (atomic on Ironic's side); the node's other keys stay as they are, and their
 * values (and those of keys the driver overwrites) go into the record.
 */
export function reservePatch(spec: InstanceSpec, o: InstanceInfoOptions, details: ImageDetails, node?: Pick<IronicNode, 'instance_info'>): JsonPatchOp[] {
  const info = buildInstanceInfo(spec, o, details, operatorInfoOf(node));
  return [{ op: 'add', path: '/instance_uuid', value: spec.uuid }, ...Object.entries(info).map(([k, value]): JsonPatchOp => ({ op: 'add', path: infoPath(k), value }))];
}

/**
 * The PATCH that undoes a reservation on a node that was never deployed: instance_uuid and the
 * driver's keys the node has now removed, the operator's earlier values of keys the driver had
 * overwritten put back; every other key stays.
 */
export function releasePatch(node: Pick<IronicNode, 'instance_info'>): JsonPatchOp[] {
  const now = node.instance_info ?? {};
  const before = readOwnerRecord(node as IronicNode)?.operatorInfo ?? {};
  const ops: JsonPatchOp[] = [{ op: 'remove', path: '/instance_uuid' }];
  for (const key of DRIVER_KEYS) {
    if (key in before) ops.push({ op: 'add', path: infoPath(key), value: before[key] });
    else if (key in now) ops.push({ op: 'remove', path: infoPath(key) });
  }
  return ops;
}

/**
 * The PATCH that writes an operator's instance_info entries back after Ironic cleared
 * instance_info at teardown: only the keys the node does not have now (a new reservation's keys
 * are never overwritten).
 */
export function restorePatch(operatorInfo: Record<string, unknown>, node: Pick<IronicNode, 'instance_info'>): JsonPatchOp[] {
  const now = node.instance_info ?? {};
  return Object.entries(operatorInfo)
    .filter(([k]) => !(k in now))
    .map(([k, value]): JsonPatchOp => ({ op: 'add', path: infoPath(k), value }));
}

/**
 * The PATCH before a rebuild: the new image (its details replace the old image's, and details
 * the new one has not are removed) and, when given, the new metadata.
 */
export function rebuildPatch(
  record: OwnerRecord,
  image: ImageMeta,
  metadata: Record<string, string> | undefined,
  preserveEphemeral: boolean,
  o: InstanceInfoOptions,
  details: ImageDetails = {},
  node?: Pick<IronicNode, 'instance_info'>,
): JsonPatchOp[] {
  const next: OwnerRecord = { ...record, imageId: image.id, metadata: metadata ? { ...metadata } : record.metadata };
  const img = imageFields(image, o, details);
  const now = node?.instance_info ?? {};
  const ops: JsonPatchOp[] = Object.entries(img).map(([k, value]): JsonPatchOp => ({ op: 'add', path: infoPath(k), value }));
  for (const key of IMAGE_DETAIL_KEYS) {
    if (key in img || !(key in now)) continue;
    if (key in record.operatorInfo) ops.push({ op: 'add', path: infoPath(key), value: record.operatorInfo[key] });
    else ops.push({ op: 'remove', path: infoPath(key) });
  }
  ops.push({ op: 'add', path: infoPath('preserve_ephemeral'), value: preserveEphemeral });
  ops.push({ op: 'add', path: infoPath(OWNER_KEY), value: next });
  return ops;
}

/**
 * Whether the record lists interface `vifId`. VIF ids compare without regard to letter case:
 * the guard hands detachInterface's `vifId` in lower case, but a Vif's own `id` (attachInterface,
 * spawn's networkInfo) as the caller wrote it, and the record keeps what it was given.
 */
export function hasVif(record: OwnerRecord, vifId: string): boolean {
  return record.vifs.some((v) => sameVifId(v.id, vifId));
}

/** The record's interfaces without `vifId`. */
export function vifsWithout(record: OwnerRecord, vifId: string): AttachedInterface[] {
  return record.vifs.filter((v) => !sameVifId(v.id, vifId));
}

function sameVifId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** The PATCH that replaces the record's interfaces. */
export function vifsPatch(record: OwnerRecord, vifs: AttachedInterface[]): JsonPatchOp[] {
  return [{ op: 'add', path: `/instance_info/${OWNER_KEY}`, value: { ...record, vifs: [...vifs].sort(byId) } }];
}

/** The ownership record on a node, when it is well-formed. */
export function readOwnerRecord(node: IronicNode): OwnerRecord | undefined {
  const raw = node.instance_info?.[OWNER_KEY];
  const parsed = OwnerRecordSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

/** The node hosts an instance of this host: instance_uuid set and our marker in instance_info. */
export function isOurs(node: IronicNode, hostId: string): boolean {
  return Boolean(node.instance_uuid) && readOwnerRecord(node)?.owner === hostId;
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
