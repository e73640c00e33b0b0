/**
 * What the driver writes on a node: Nova's instance_info fields (image, sizes, display name,
 * capabilities, traits) plus this driver's ownership record under instance_info.nova_common.
 * Ironic clears instance_info and instance_uuid itself when it tears the node down, so the
 * record cannot outlive the instance.
 */
import { z } from 'zod';
import type { AttachedInterface, Flavor, ImageMeta, InstanceSpec } from '@nova-common/core';
import type { IronicNode, JsonPatchOp } from '../client/types.js';

const OWNER_KEY = 'nova_common';

const OwnerRecordSchema = z.object({
  owner: z.string(),
  name: z.string(),
  metadata: z.record(z.string(), z.string()),
  flavorId: z.string(),
  imageId: z.string(),
  vifs: z.array(z.object({ id: z.string(), address: z.string() })),
});
export type OwnerRecord = z.infer<typeof OwnerRecordSchema>;

export interface InstanceInfoOptions {
  hostId: string;
  imageSourceTemplate: string;
}

/** The image's source for Ironic: the template with `{id}` replaced by the URL-encoded id. */
export function imageSource(template: string, imageId: string): string {
  return template.split('{id}').join(encodeURIComponent(imageId));
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

export function ownerRecordOf(spec: InstanceSpec, hostId: string): OwnerRecord {
  return {
    owner: hostId,
    name: spec.name,
    metadata: { ...spec.metadata },
    flavorId: spec.flavor.id,
    imageId: spec.image.id,
    vifs: spec.networkInfo.map((v) => ({ id: v.id, address: v.address.toLowerCase() })).sort(byId),
  };
}

function imageFields(image: ImageMeta, o: InstanceInfoOptions): Record<string, string> {
  return { image_source: imageSource(o.imageSourceTemplate, image.id), image_disk_format: image.diskFormat };
}

/** instance_info for a new instance, Nova's fields (values as strings, like Nova's patcher) plus the record. */
function buildInstanceInfo(spec: InstanceSpec, o: InstanceInfoOptions): Record<string, unknown> {
  const f = spec.flavor;
  const info: Record<string, unknown> = {
    ...imageFields(spec.image, o),
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
  info[OWNER_KEY] = ownerRecordOf(spec, o.hostId);
  return info;
}

/** One PATCH that reserves the node for the instance and writes its instance_info (atomic on Ironic's side). */
export function reservePatch(spec: InstanceSpec, o: InstanceInfoOptions): JsonPatchOp[] {
  return [
    { op: 'add', path: '/instance_uuid', value: spec.uuid },
    { op: 'add', path: '/instance_info', value: buildInstanceInfo(spec, o) },
  ];
}

/** The PATCH that undoes a reservation on a node that was never deployed. */
export function releasePatch(): JsonPatchOp[] {
  return [
    { op: 'remove', path: '/instance_uuid' },
    { op: 'remove', path: '/instance_info' },
  ];
}

/** The PATCH before a rebuild: the new image and, when given, the new metadata. */
export function rebuildPatch(record: OwnerRecord, image: ImageMeta, metadata: Record<string, string> | undefined, preserveEphemeral: boolean, o: InstanceInfoOptions): JsonPatchOp[] {
  const next: OwnerRecord = { ...record, imageId: image.id, metadata: metadata ? { ...metadata } : record.metadata };
  const img = imageFields(image, o);
  return [
    { op: 'add', path: '/instance_info/image_source', value: img.image_source },
    { op: 'add', path: '/instance_info/image_disk_format', value: img.image_disk_format },
    { op: 'add', path: '/instance_info/preserve_ephemeral', value: preserveEphemeral },
    { op: 'add', path: `/instance_info/${OWNER_KEY}`, value: next },
  ];
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
