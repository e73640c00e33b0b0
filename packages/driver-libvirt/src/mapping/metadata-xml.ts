import { escapeAttr, userTextElement } from './xml-escape.js';
import { METADATA_NS, OWNER_MARKER, type InstanceRecord } from './instance-record.js';


function attrs(values: Record<string, string | number | boolean | undefined>): string {
  return Object.entries(values)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeAttr(String(v))}"`)
    .join('');
}

function pair(q: (t: string) => string, tag: string, key: string, value: string): string {
  return `<${q(tag)}>${userTextElement(q('key'), key)}${userTextElement(q('value'), value)}</${q(tag)}>`;
}

/**
 * The <nova:instance> element placed in the domain's <metadata>. With `standalone`, the form
 * DOMAIN_SET_METADATA takes: no prefix and no namespace declaration (libvirt puts the
 * element into the namespace itself and refuses a second declaration of the prefix).
 */
export function buildInstanceMetadata(r: InstanceRecord, indent = '', standalone = false): string {
  const q = (t: string) => (standalone ? t : `nova:${t}`);
  const xmlns = standalone ? '' : ` xmlns:nova="${METADATA_NS}"`;
  const i1 = `${indent}  `;
  const i2 = `${indent}    `;
  const lines: string[] = [];
  lines.push(`${indent}<${q('instance')}${xmlns} version="1">`);
  lines.push(`${i1}<${q('owner')}${attrs({ prefix: r.ownerPrefix })}>${OWNER_MARKER}</${q('owner')}>`);
  // <phase> carries the spawning session and time; its text is always `ready` (a domain is an
  // instance once persistent, see spawn).
  lines.push(`${i1}<${q('phase')}${attrs({ session: r.session, since: r.since, holder: r.holder || undefined })}>ready</${q('phase')}>`);
  lines.push(`${i1}<${q('mode')}>${r.mode}</${q('mode')}>`);
  lines.push(`${i1}${userTextElement(`${q('name')}`, r.name)}`);
  const f = r.flavor;
  const specs = Object.entries(f.extraSpecs);
  const flavorAttrs = attrs({ id: f.id, name: f.name, vcpus: f.vcpus, memoryMb: f.memoryMb, rootGb: f.rootGb, ephemeralGb: f.ephemeralGb, swapMb: f.swapMb });
  if (specs.length === 0) lines.push(`${i1}<${q('flavor')}${flavorAttrs}/>`);
  else {
    lines.push(`${i1}<${q('flavor')}${flavorAttrs}>`);
    for (const [k, v] of specs) lines.push(`${i2}${pair(q, 'extra-spec', k, v)}`);
    lines.push(`${i1}</${q('flavor')}>`);
  }
  const img = (tag: string, im: InstanceRecord['image']) =>
    `${i1}<${q(tag)}${attrs({ id: im.id, diskFormat: im.diskFormat, containerFormat: im.containerFormat, diskBus: im.diskBus, vifModel: im.vifModel, machine: im.machine, osType: im.osType })}/>`;
  lines.push(img('image', r.image));
  if (r.rescueImage) lines.push(img('rescue-image', r.rescueImage));
  const meta = Object.entries(r.metadata);
  if (meta.length === 0) lines.push(`${i1}<${q('metadata')}/>`);
  else {
    lines.push(`${i1}<${q('metadata')}>`);
    for (const [k, v] of meta) lines.push(`${i2}${pair(q, 'item', k, v)}`);
    lines.push(`${i1}</${q('metadata')}>`);
  }
  for (const d of r.localDisks) lines.push(`${i1}<${q('disk')}${attrs({ kind: d.kind, target: d.target, bus: d.bus, sizeMb: d.sizeMb })}/>`);
  for (const v of r.volumes) {
    lines.push(
      `${i1}<${q('volume')}${attrs({ id: v.id, target: v.target, bus: v.bus, source: v.source, path: v.path, sizeGb: v.sizeGb, deviceName: v.deviceName, deleteOnTermination: v.deleteOnTermination, connection: v.connection ? JSON.stringify(v.connection) : undefined })}/>`,
    );
  }
  for (const n of r.interfaces) lines.push(`${i1}<${q('interface')}${attrs({ id: n.id, mac: n.mac, model: n.model, address: n.address, bridge: n.bridge, mtu: n.mtu, devname: n.devname, plugged: n.plugged, vifType: n.vifType, network: n.networkId })}/>`);
  lines.push(`${indent}</${q('instance')}>`);
  return lines.join('\n');
}
