import { XMLParser } from 'fast-xml-parser';
import { fromUtf16Hex } from './xml-escape.js';
import { METADATA_NS, OWNER_MARKER, type ImageRecord, type InstanceRecord } from './instance-record.js';

/** Elements that may repeat, so the parser always gives arrays for them. */
const REPEATED = new Set(['disk', 'interface', 'extra-spec', 'item', 'volume', 'instance']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: false,
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: true,
  // Decodes numeric character references too (&#233;), which libxml2 may emit.
  htmlEntities: true,
  isArray: (name) => REPEATED.has(localName(name)),
});

type Node = Record<string, unknown>;

function localName(name: string): string {
  const i = name.indexOf(':');
  return i >= 0 ? name.slice(i + 1) : name;
}

/** A child by local name, whatever namespace prefix the serializer chose. */
function child(n: Node | undefined, local: string): unknown {
  if (!n) return undefined;
  if (local in n) return n[local];
  for (const k of Object.keys(n)) if (!k.startsWith('@_') && localName(k) === local) return n[k];
  return undefined;
}

function asNode(v: unknown): Node | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Node) : undefined;
}

function list(v: unknown): Node[] {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? { '#text': x } : (x as Node)));
  const n = asNode(v);
  if (n) return [n];
  if (typeof v === 'string') return [{ '#text': v }];
  return [];
}

function attr(n: Node | undefined, name: string): string | undefined {
  const v = n?.[`@_${name}`];
  return typeof v === 'string' ? v : undefined;
}

/** The text of an element written by userTextElement (plain or enc="u16"). */
function userText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  const n = asNode(v);
  if (!n) return '';
  const text = typeof n['#text'] === 'string' ? (n['#text'] as string) : '';
  return attr(n, 'enc') === 'u16' ? fromUtf16Hex(text) : text;
}

/** Set a key even when it is "__proto__" or another Object.prototype name. */
function setOwn(target: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function int(v: string | undefined, field: string): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n)) throw new Error(`metadata field ${field} is not an integer`);
  return n;
}

function readImage(n: Node | undefined): ImageRecord | undefined {
  if (!n) return undefined;
  const id = attr(n, 'id');
  if (id === undefined) return undefined;
  const machine = attr(n, 'machine');
  return {
    id,
    diskFormat: attr(n, 'diskFormat') ?? 'raw',
    containerFormat: attr(n, 'containerFormat') ?? 'bare',
    diskBus: attr(n, 'diskBus') ?? 'virtio',
    vifModel: attr(n, 'vifModel') ?? 'virtio',
    ...(machine !== undefined ? { machine } : {}),
  };
}

/**
 * Read a <nova:instance> element (already parsed) back into an InstanceRecord. Returns
 * undefined when it is not ours: wrong namespace or no ownership marker.
 */
function readInstance(n: Node, uuid: string, namespaceKnown = false): InstanceRecord | undefined {
  const ns = Object.entries(n).find(([k, v]) => (k === '@_xmlns' || k.startsWith('@_xmlns:')) && v === METADATA_NS);
  if (!ns && !namespaceKnown) return undefined;
  const owner = asNode(child(n, 'owner')) ?? (typeof child(n, 'owner') === 'string' ? { '#text': child(n, 'owner') } : undefined);
  if (!owner || owner['#text'] !== OWNER_MARKER) return undefined;
  const phaseNode = asNode(child(n, 'phase'));
  const flavorNode = asNode(child(n, 'flavor')) ?? {};
  const extraSpecs: Record<string, string> = {};
  for (const s of list(child(flavorNode, 'extra-spec'))) setOwn(extraSpecs, userText(child(s, 'key')), userText(child(s, 'value')));
  const metadata: Record<string, string> = {};
  for (const it of list(child(asNode(child(n, 'metadata')), 'item'))) setOwn(metadata, userText(child(it, 'key')), userText(child(it, 'value')));
  const image = readImage(asNode(child(n, 'image')));
  if (!image) throw new Error('instance metadata has no image');
  const rescueImage = readImage(asNode(child(n, 'rescue-image')));
  const modeText = userText(child(n, 'mode'));
  const phaseText = typeof child(n, 'phase') === 'string' ? child(n, 'phase') : userText(phaseNode);
  return {
    uuid,
    ownerPrefix: attr(owner, 'prefix') ?? '',
    phase: phaseText === 'spawning' ? 'spawning' : 'ready',
    session: attr(phaseNode, 'session') ?? '',
    since: attr(phaseNode, 'since') ?? '',
    mode: modeText === 'rescue' ? 'rescue' : 'normal',
    name: userText(child(n, 'name')),
    flavor: {
      id: attr(flavorNode, 'id') ?? '',
      name: attr(flavorNode, 'name') ?? '',
      vcpus: int(attr(flavorNode, 'vcpus'), 'flavor.vcpus'),
      memoryMb: int(attr(flavorNode, 'memoryMb'), 'flavor.memoryMb'),
      rootGb: int(attr(flavorNode, 'rootGb'), 'flavor.rootGb'),
      ephemeralGb: int(attr(flavorNode, 'ephemeralGb'), 'flavor.ephemeralGb'),
      swapMb: int(attr(flavorNode, 'swapMb'), 'flavor.swapMb'),
      extraSpecs,
    },
    image,
    ...(rescueImage ? { rescueImage } : {}),
    metadata,
    localDisks: list(child(n, 'disk')).map((d) => ({
      kind: attr(d, 'kind') === 'swap' ? ('swap' as const) : ('ephemeral' as const),
      target: attr(d, 'target') ?? '',
      bus: attr(d, 'bus') ?? 'virtio',
      sizeMb: int(attr(d, 'sizeMb'), 'disk.sizeMb'),
    })),
    volumes: list(child(n, 'volume')).map((v) => {
      const size = attr(v, 'sizeGb');
      const deviceName = attr(v, 'deviceName');
      return {
        id: attr(v, 'id') ?? '',
        target: attr(v, 'target') ?? '',
        bus: attr(v, 'bus') ?? 'virtio',
        source: attr(v, 'source') === 'block' ? ('block' as const) : ('file' as const),
        path: attr(v, 'path') ?? '',
        ...(size !== undefined ? { sizeGb: int(size, 'volume.sizeGb') } : {}),
        ...(deviceName !== undefined ? { deviceName } : {}),
        deleteOnTermination: attr(v, 'deleteOnTermination') === 'true',
      };
    }),
    interfaces: list(child(n, 'interface')).map((i) => {
      const address = attr(i, 'address');
      return { id: attr(i, 'id') ?? '', mac: (attr(i, 'mac') ?? '').toLowerCase(), model: attr(i, 'model') ?? 'virtio', ...(address !== undefined ? { address } : {}) };
    }),
  };
}

/**
 * Parse a standalone <instance> element as DOMAIN_GET_METADATA returns it: libvirt selected
 * it by our namespace URI and strips the namespace, so only the ownership marker is checked.
 */
export function parseInstanceMetadata(xml: string, uuid: string): InstanceRecord | undefined {
  const doc = parser.parse(xml) as Node;
  for (const n of list(child(doc, 'instance'))) {
    const r = readInstance(n, uuid, true);
    if (r) return r;
  }
  return undefined;
}

export interface LiveDisk {
  target: string;
  bus: string;
  source?: string;
  serial?: string;
}

export interface LiveInterface {
  mac: string;
  model?: string;
}

export interface ParsedDomain {
  name: string;
  uuid: string;
  /** Our record, or undefined when the domain carries no ownership marker. */
  record: InstanceRecord | undefined;
  disks: LiveDisk[];
  interfaces: LiveInterface[];
}

/** Parse a domain's XML (live or inactive): identity, our metadata, and the devices present. */
export function parseDomainXml(xml: string): ParsedDomain {
  const doc = parser.parse(xml) as Node;
  const dom = asNode(child(doc, 'domain'));
  if (!dom) throw new Error('not a domain XML document');
  const name = userText(child(dom, 'name'));
  const uuid = userText(child(dom, 'uuid')).toLowerCase();
  let record: InstanceRecord | undefined;
  for (const n of list(child(asNode(child(dom, 'metadata')), 'instance'))) {
    record = readInstance(n, uuid);
    if (record) break;
  }
  const devices = asNode(child(dom, 'devices')) ?? {};
  const disks: LiveDisk[] = list(child(devices, 'disk')).map((d) => {
    const target = asNode(child(d, 'target'));
    const source = asNode(child(d, 'source'));
    const serial = child(d, 'serial') === undefined ? undefined : userText(child(d, 'serial'));
    const src = attr(source, 'file') ?? attr(source, 'dev');
    return {
      target: attr(target, 'dev') ?? '',
      bus: attr(target, 'bus') ?? '',
      ...(src !== undefined ? { source: src } : {}),
      ...(serial !== undefined ? { serial } : {}),
    };
  });
  const interfaces: LiveInterface[] = list(child(devices, 'interface')).map((i) => {
    const model = attr(asNode(child(i, 'model')), 'type');
    return { mac: (attr(asNode(child(i, 'mac')), 'address') ?? '').toLowerCase(), ...(model !== undefined ? { model } : {}) };
  });
  return { name, uuid, record, disks, interfaces };
}
