import type { ConnectionInfo, Flavor, ImageMeta, Metadata } from './contract-types.js';

/**
 * Labels and names: how the driver marks what it owns and where it keeps instance data.
 *
 * Every object the driver creates (containers, networks, images) carries
 * `<labelPrefix>.owner=<ownerId>` and `<labelPrefix>.kind`. Listing filters on the owner
 * label server-side, and every destructive call re-checks it on the object itself, so an
 * object the driver did not create is never listed, changed or removed.
 */
export interface Naming {
  namePrefix: string;
  labelPrefix: string;
  ownerId: string;
}

export type ObjectKind = 'instance' | 'network' | 'state-image' | 'snapshot';

/** The phase a container's name encodes: a finished instance, or one being spawned / replaced. */
export type ContainerPhase = 'instance' | 'spawning' | 'replacing';

export interface LabelKeys {
  owner: string;
  kind: string;
  uuid: string;
  name: string;
  metadata: string;
  flavor: string;
  node: string;
  image: string;
  volumes: string;
  networkId: string;
  snapshotName: string;
  /** When a snapshot was made (ISO 8601, milliseconds): listSnapshots' order. */
  createdAt: string;
  /** `true` on a container made to replace a CRASHED instance's container: it reads CRASHED until started or stopped. */
  crashed: string;
  /**
   * The process that made the container (core's currentHolder): the startup sweep removes a
   * spawn or replacement it left half made at once when that process has certainly died.
   */
  holder: string;
}

export function labelKeys(n: Naming): LabelKeys {
  const p = n.labelPrefix;
  return {
    owner: `${p}.owner`,
    kind: `${p}.kind`,
    uuid: `${p}.uuid`,
    name: `${p}.name`,
    metadata: `${p}.metadata`,
    flavor: `${p}.flavor`,
    node: `${p}.node`,
    image: `${p}.image`,
    volumes: `${p}.volumes`,
    networkId: `${p}.network-id`,
    snapshotName: `${p}.snapshot-name`,
    createdAt: `${p}.created-at`,
    crashed: `${p}.crashed`,
    holder: `${p}.holder`,
  };
}

/** The label filter that selects this driver's objects of one kind (server-side). */
export function ownerFilter(n: Naming, kind?: ObjectKind): string[] {
  const k = labelKeys(n);
  const f = [`${k.owner}=${n.ownerId}`];
  if (kind) f.push(`${k.kind}=${kind}`);
  return f;
}

/** Whether an object's labels say this driver (this owner id) created it. */
export function isOwned(n: Naming, labels: Record<string, string> | null | undefined, kind?: ObjectKind): boolean {
  if (!labels) return false;
  const k = labelKeys(n);
  if (labels[k.owner] !== n.ownerId) return false;
  return kind === undefined || labels[k.kind] === kind;
}

/** Container names are derived from the uuid, which the guard hands over in lower case: one uuid is one name. */
export function containerName(n: Naming, uuid: string, phase: ContainerPhase = 'instance'): string {
  switch (phase) {
    case 'instance':
      return `${n.namePrefix}-${uuid}`;
    case 'spawning':
      return `${n.namePrefix}-spawning-${uuid}`;
    case 'replacing':
      return `${n.namePrefix}-replacing-${uuid}`;
  }
}

/** The phase of a container name the driver made (the engine reports names with a leading slash). */
export function phaseOfName(n: Naming, name: string): { phase: ContainerPhase; uuid: string } | undefined {
  const bare = name.startsWith('/') ? name.slice(1) : name;
  const uuid = '([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})';
  const esc = n.namePrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let m = new RegExp(`^${esc}-${uuid}$`).exec(bare);
  if (m) return { phase: 'instance', uuid: m[1]! };
  m = new RegExp(`^${esc}-spawning-${uuid}$`).exec(bare);
  if (m) return { phase: 'spawning', uuid: m[1]! };
  m = new RegExp(`^${esc}-replacing-${uuid}$`).exec(bare);
  if (m) return { phase: 'replacing', uuid: m[1]! };
  return undefined;
}

/** What an instance container's labels carry. */
export interface InstanceLabels {
  uuid: string;
  name: string;
  metadata: Metadata;
  flavor: Flavor;
  node: string;
  image: ImageMeta;
  volumes: StoredVolume[];
}

/** A volume attachment as recorded on the container (the mounts are the truth; this adds names). */
export interface StoredVolume {
  volumeId: string;
  deviceName?: string;
  sizeGb?: number;
  /** Where the container sees it: a mount target or a device path. */
  target: string;
  /** The host path it comes from (after realpath). */
  source: string;
  kind: 'file' | 'block';
  /** Set when the volume connector connected it: what its disconnect is given. */
  connectionInfo?: ConnectionInfo;
}

export function instanceLabels(n: Naming, data: InstanceLabels): Record<string, string> {
  const k = labelKeys(n);
  return {
    [k.owner]: n.ownerId,
    [k.kind]: 'instance',
    [k.uuid]: data.uuid,
    [k.name]: data.name,
    [k.metadata]: JSON.stringify(data.metadata),
    [k.flavor]: JSON.stringify(data.flavor),
    [k.node]: data.node,
    [k.image]: JSON.stringify(data.image),
    [k.volumes]: JSON.stringify(data.volumes),
    // Written on every instance container so that none inherits a crash from the image it was made from
    // (a state image or a snapshot committed from a replacement that carried one): see replace.ts.
    [k.crashed]: 'false',
  };
}

function parseJson<T>(text: string | undefined, fallback: T): T {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** Read back what instanceLabels wrote; undefined when the labels are not an owned instance's. */
export function readInstanceLabels(n: Naming, labels: Record<string, string> | null | undefined): InstanceLabels | undefined {
  if (!isOwned(n, labels, 'instance') || !labels) return undefined;
  const k = labelKeys(n);
  const uuid = labels[k.uuid];
  if (!uuid) return undefined;
  return {
    uuid,
    name: labels[k.name] ?? '',
    metadata: parseJson<Metadata>(labels[k.metadata], {}),
    flavor: parseJson<Flavor>(labels[k.flavor], undefined as unknown as Flavor),
    node: labels[k.node] ?? '',
    image: parseJson<ImageMeta>(labels[k.image], undefined as unknown as ImageMeta),
    volumes: parseJson<StoredVolume[]>(labels[k.volumes], []),
  };
}

export function networkLabels(n: Naming, networkId: string): Record<string, string> {
  const k = labelKeys(n);
  return { [k.owner]: n.ownerId, [k.kind]: 'network', [k.networkId]: networkId };
}
