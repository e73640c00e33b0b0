import { ConnectionInfoSchema, type ConnectionInfo } from '@nova-common/core';
import { fromUtf16Hex } from './xml-escape.js';
import { METADATA_NS, OWNER_MARKER, type ImageRecord, type InstanceRecord } from './instance-record.js';
import { childNamed, childrenNamed, localName, parseXml, type XmlElement } from './xml-tree.js';

function attr(el: XmlElement | undefined, name: string): string | undefined {
  return el?.attrs[name];
}

/** The text of an element written by userTextElement (plain or enc="u16"). */
function userText(el: XmlElement | undefined): string {
  if (!el) return '';
  return attr(el, 'enc') === 'u16' ? fromUtf16Hex(el.text) : el.text;
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

/** A volume's recorded connection info (JSON in an attribute); undefined when absent or unreadable. */
function readConnection(v: string | undefined): ConnectionInfo | undefined {
  if (v === undefined) return undefined;
  try {
    const parsed = ConnectionInfoSchema.safeParse(JSON.parse(v));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function readImage(el: XmlElement | undefined): ImageRecord | undefined {
  const id = attr(el, 'id');
  if (id === undefined) return undefined;
  const machine = attr(el, 'machine');
  const osType = attr(el, 'osType');
  return {
    id,
    diskFormat: attr(el, 'diskFormat') ?? 'raw',
    containerFormat: attr(el, 'containerFormat') ?? 'bare',
    diskBus: attr(el, 'diskBus') ?? 'virtio',
    vifModel: attr(el, 'vifModel') ?? 'virtio',
    ...(machine !== undefined ? { machine } : {}),
    ...(osType !== undefined ? { osType } : {}),
  };
}

/** Whether the element's prefix (or default namespace) is declared, on itself, as our namespace. */
function inOurNamespace(el: XmlElement): boolean {
  const colon = el.name.indexOf(':');
  return attr(el, colon >= 0 ? `xmlns:${el.name.slice(0, colon)}` : 'xmlns') === METADATA_NS;
}

/**
 * Read a <nova:instance> element back into an InstanceRecord. Returns undefined when it is
 * not ours: another namespace, or no ownership marker.
 */
function readInstance(el: XmlElement, uuid: string, namespaceKnown = false): InstanceRecord | undefined {
  if (!namespaceKnown && !inOurNamespace(el)) return undefined;
  const owner = childNamed(el, 'owner');
  if (!owner || userText(owner) !== OWNER_MARKER) return undefined;
  const phase = childNamed(el, 'phase');
  const flavor = childNamed(el, 'flavor');
  const extraSpecs: Record<string, string> = {};
  for (const s of childrenNamed(flavor, 'extra-spec')) setOwn(extraSpecs, userText(childNamed(s, 'key')), userText(childNamed(s, 'value')));
  const metadata: Record<string, string> = {};
  for (const it of childrenNamed(childNamed(el, 'metadata'), 'item')) setOwn(metadata, userText(childNamed(it, 'key')), userText(childNamed(it, 'value')));
  const image = readImage(childNamed(el, 'image'));
  if (!image) throw new Error('instance metadata has no image');
  const rescueImage = readImage(childNamed(el, 'rescue-image'));
  return {
    uuid,
    ownerPrefix: attr(owner, 'prefix') ?? '',
    session: attr(phase, 'session') ?? '',
    since: attr(phase, 'since') ?? '',
    ...(attr(phase, 'holder') ? { holder: attr(phase, 'holder')! } : {}),
    mode: userText(childNamed(el, 'mode')) === 'rescue' ? 'rescue' : 'normal',
    name: userText(childNamed(el, 'name')),
    flavor: {
      id: attr(flavor, 'id') ?? '',
      name: attr(flavor, 'name') ?? '',
      vcpus: int(attr(flavor, 'vcpus'), 'flavor.vcpus'),
      memoryMb: int(attr(flavor, 'memoryMb'), 'flavor.memoryMb'),
      rootGb: int(attr(flavor, 'rootGb'), 'flavor.rootGb'),
      ephemeralGb: int(attr(flavor, 'ephemeralGb'), 'flavor.ephemeralGb'),
      swapMb: int(attr(flavor, 'swapMb'), 'flavor.swapMb'),
      extraSpecs,
    },
    image,
    ...(rescueImage ? { rescueImage } : {}),
    metadata,
    localDisks: childrenNamed(el, 'disk').map((d) => ({
      kind: attr(d, 'kind') === 'swap' ? ('swap' as const) : ('ephemeral' as const),
      target: attr(d, 'target') ?? '',
      bus: attr(d, 'bus') ?? 'virtio',
      sizeMb: int(attr(d, 'sizeMb'), 'disk.sizeMb'),
    })),
    volumes: childrenNamed(el, 'volume').map((v) => {
      const size = attr(v, 'sizeGb');
      const deviceName = attr(v, 'deviceName');
      const connection = readConnection(attr(v, 'connection'));
      return {
        id: attr(v, 'id') ?? '',
        target: attr(v, 'target') ?? '',
        bus: attr(v, 'bus') ?? 'virtio',
        source: attr(v, 'source') === 'block' ? ('block' as const) : ('file' as const),
        path: attr(v, 'path') ?? '',
        ...(size !== undefined ? { sizeGb: int(size, 'volume.sizeGb') } : {}),
        ...(deviceName !== undefined ? { deviceName } : {}),
        deleteOnTermination: attr(v, 'deleteOnTermination') === 'true',
        ...(connection !== undefined ? { connection } : {}),
      };
    }),
    interfaces: childrenNamed(el, 'interface').map((i) => {
      const address = attr(i, 'address');
      const bridge = attr(i, 'bridge');
      const mtu = attr(i, 'mtu');
      const devname = attr(i, 'devname');
      const plugged = attr(i, 'plugged');
      const vifType = attr(i, 'vifType');
      const networkId = attr(i, 'network');
      return {
        id: attr(i, 'id') ?? '',
        mac: (attr(i, 'mac') ?? '').toLowerCase(),
        model: attr(i, 'model') ?? 'virtio',
        ...(address !== undefined ? { address } : {}),
        ...(bridge !== undefined ? { bridge } : {}),
        ...(mtu !== undefined ? { mtu: int(mtu, 'interface.mtu') } : {}),
        ...(devname !== undefined ? { devname } : {}),
        ...(plugged !== undefined ? { plugged } : {}),
        ...(vifType !== undefined ? { vifType } : {}),
        ...(networkId !== undefined ? { networkId } : {}),
      };
    }),
  };
}

/**
 * Parse a standalone <instance> element as DOMAIN_GET_METADATA returns it: libvirt selected
 * it by our namespace URI and strips the namespace, so only the ownership marker is checked.
 */
export function parseInstanceMetadata(xml: string, uuid: string): InstanceRecord | undefined {
  const root = parseXml(xml);
  return localName(root.name) === 'instance' ? readInstance(root, uuid, true) : undefined;
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
  /** Whether the domain runs (libvirt writes an id on active domains only). */
  active: boolean;
  /** Our record, or undefined when the domain carries no ownership marker. */
  record: InstanceRecord | undefined;
  disks: LiveDisk[];
  interfaces: LiveInterface[];
}

/** Parse a domain's XML (live or inactive): identity, our metadata, and the devices present. */
export function parseDomainXml(xml: string): ParsedDomain {
  const dom = parseXml(xml);
  if (dom.name !== 'domain') throw new Error('not a domain XML document');
  const name = userText(childNamed(dom, 'name'));
  const uuid = userText(childNamed(dom, 'uuid')).toLowerCase();
  let record: InstanceRecord | undefined;
  for (const el of childrenNamed(childNamed(dom, 'metadata'), 'instance')) {
    record = readInstance(el, uuid);
    if (record) break;
  }
  const devices = childNamed(dom, 'devices');
  const disks: LiveDisk[] = childrenNamed(devices, 'disk').map((d) => {
    const target = childNamed(d, 'target');
    const source = childNamed(d, 'source');
    const serial = childNamed(d, 'serial');
    const src = attr(source, 'file') ?? attr(source, 'dev');
    return {
      target: attr(target, 'dev') ?? '',
      bus: attr(target, 'bus') ?? '',
      ...(src !== undefined ? { source: src } : {}),
      ...(serial !== undefined ? { serial: userText(serial) } : {}),
    };
  });
  const interfaces: LiveInterface[] = childrenNamed(devices, 'interface').map((i) => {
    const model = attr(childNamed(i, 'model'), 'type');
    return { mac: (attr(childNamed(i, 'mac'), 'address') ?? '').toLowerCase(), ...(model !== undefined ? { model } : {}) };
  });
  const id = attr(dom, 'id');
  return { name, uuid, active: id !== undefined && id !== '-1', record, disks, interfaces };
}
