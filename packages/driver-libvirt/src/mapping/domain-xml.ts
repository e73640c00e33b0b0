import { escapeAttr, escapeText } from './xml-escape.js';
import { buildInstanceMetadata } from './metadata-xml.js';
import type { InstanceRecord } from './instance-record.js';

export type DomainType = 'qemu' | 'kvm' | 'test';

/** Host-side facts the XML needs besides the instance record: where files live, how to boot. */
export interface DomainEnvironment {
  domainType: DomainType;
  /** The domain's name (see instanceDomainName). */
  domainName: string;
  /** Directory holding this instance's disks and console log (already validated). */
  instanceDir: string;
  /** Path of the image file the root disk was made from (for the record only). */
  kernel?: string;
  initrd?: string;
  kernelArgs?: string;
  /** When false, no serial console log file is configured (the test driver has none). */
  consoleLog: boolean;
}

/** Guest device-name prefix per disk bus. */
export const BUS_PREFIX: Record<string, string> = { virtio: 'vd', scsi: 'sd', sata: 'sd', usb: 'sd', ide: 'hd', fdc: 'fd' };

const TAG = /^[0-9a-f]{8}$/;

/**
 * The name of a domain a spawn defines: `<prefix><instance uuid>-<tag>`, the tag drawn anew
 * for every spawn. libvirt's DEFINE and CREATE_XML replace an existing domain only when both
 * its uuid and its name match, and refuse a uuid in use under another name; a name no
 * domain can have yet turns both into an atomic "create unless the uuid is taken".
 */
export function instanceDomainName(prefix: string, uuid: string, tag: string): string {
  return `${prefix}${uuid}-${tag}`;
}

/** Whether `name` is a name this driver gives instance `uuid` (`<prefix><uuid>-<tag>`, or `<prefix><uuid>` from earlier versions). */
export function isInstanceDomainName(prefix: string, uuid: string, name: string): boolean {
  const base = `${prefix}${uuid}`;
  return name === base || (name.length === base.length + 9 && name.startsWith(`${base}-`) && TAG.test(name.slice(base.length + 1)));
}

export function rootDiskPath(env: Pick<DomainEnvironment, 'instanceDir'>): string {
  return `${env.instanceDir}/disk`;
}
export function rescueDiskPath(env: Pick<DomainEnvironment, 'instanceDir'>): string {
  return `${env.instanceDir}/disk.rescue`;
}
export function localDiskPath(env: Pick<DomainEnvironment, 'instanceDir'>, kind: 'ephemeral' | 'swap', index: number): string {
  return kind === 'swap' ? `${env.instanceDir}/disk.swap` : `${env.instanceDir}/disk.eph${index}`;
}
export function consoleLogPath(env: Pick<DomainEnvironment, 'instanceDir'>): string {
  return `${env.instanceDir}/console.log`;
}

/** Disk format libvirt should use for an image's disk format (everything else is read as raw). */
function driverFormat(diskFormat: string): 'qcow2' | 'raw' {
  return diskFormat === 'qcow2' ? 'qcow2' : 'raw';
}

interface DiskXml {
  type: 'file' | 'block';
  path: string;
  format: 'qcow2' | 'raw';
  target: string;
  bus: string;
  serial?: string;
  readonly?: boolean;
}

/** One <disk> element; also used alone for attach/detach. */
export function diskXml(d: DiskXml, indent = ''): string {
  const device = d.bus === 'fdc' ? 'floppy' : 'disk';
  const source = d.type === 'block' ? `<source dev="${escapeAttr(d.path)}"/>` : `<source file="${escapeAttr(d.path)}"/>`;
  const parts = [
    `${indent}<disk type="${d.type}" device="${device}">`,
    `${indent}  <driver name="qemu" type="${d.format}"/>`,
    `${indent}  ${source}`,
    `${indent}  <target dev="${escapeAttr(d.target)}" bus="${escapeAttr(d.bus)}"/>`,
  ];
  if (d.serial) parts.push(`${indent}  <serial>${escapeText(d.serial)}</serial>`);
  if (d.readonly) parts.push(`${indent}  <readonly/>`);
  parts.push(`${indent}</disk>`);
  return parts.join('\n');
}

/** One <interface> element; also used alone for attach/detach. */
export function interfaceXml(n: { mac: string; model: string }, indent = ''): string {
  return [
    `${indent}<interface type="user">`,
    `${indent}  <mac address="${escapeAttr(n.mac.toLowerCase())}"/>`,
    `${indent}  <model type="${escapeAttr(n.model)}"/>`,
    `${indent}</interface>`,
  ].join('\n');
}

/** The volume's <disk> element as attached. */
export function volumeDiskXml(v: InstanceRecord['volumes'][number], indent = ''): string {
  return diskXml({ type: v.source, path: v.path, format: 'raw', target: v.target, bus: v.bus, serial: v.id }, indent);
}

/**
 * The full domain XML for an instance record. Deterministic: the same record and
 * environment give the same bytes (golden tests pin it).
 */
export function buildDomainXml(r: InstanceRecord, env: DomainEnvironment): string {
  const L: string[] = [];
  L.push(`<domain type="${env.domainType}">`);
  L.push(`  <name>${escapeText(env.domainName)}</name>`);
  L.push(`  <uuid>${escapeText(r.uuid)}</uuid>`);
  L.push('  <metadata>');
  L.push(buildInstanceMetadata(r, '    '));
  L.push('  </metadata>');
  L.push(`  <memory unit="MiB">${r.flavor.memoryMb}</memory>`);
  L.push(`  <currentMemory unit="MiB">${r.flavor.memoryMb}</currentMemory>`);
  L.push(`  <vcpu placement="static">${r.flavor.vcpus}</vcpu>`);
  L.push('  <os>');
  const machine = r.image.machine ? ` machine="${escapeAttr(r.image.machine)}"` : '';
  L.push(env.domainType === 'test' ? '    <type>hvm</type>' : `    <type arch="x86_64"${machine}>hvm</type>`);
  if (env.kernel && env.domainType !== 'test') {
    L.push(`    <kernel>${escapeText(env.kernel)}</kernel>`);
    if (env.initrd) L.push(`    <initrd>${escapeText(env.initrd)}</initrd>`);
    if (env.kernelArgs) L.push(`    <cmdline>${escapeText(env.kernelArgs)}</cmdline>`);
  } else {
    L.push('    <boot dev="hd"/>');
  }
  L.push('  </os>');
  if (env.domainType !== 'test') {
    L.push('  <features>');
    L.push('    <acpi/>');
    L.push('    <apic/>');
    L.push('  </features>');
  }
  L.push('  <on_poweroff>destroy</on_poweroff>');
  L.push('  <on_reboot>restart</on_reboot>');
  L.push('  <on_crash>destroy</on_crash>');
  L.push('  <devices>');
  // libvirt's test driver has no storage: its domains describe only the volumes' disks
  // (their serials tell which volumes are attached), not disks made from files on the host.
  if (env.domainType !== 'test') localDiskXml(r, env, L);
  for (const v of r.volumes) L.push(volumeDiskXml(v, '    '));
  for (const n of r.interfaces) L.push(interfaceXml(n, '    '));
  if (env.consoleLog && env.domainType !== 'test') {
    L.push('    <serial type="file">');
    L.push(`      <source path="${escapeAttr(consoleLogPath(env))}" append="on"/>`);
    L.push('      <target port="0"/>');
    L.push('    </serial>');
  }
  L.push('  </devices>');
  L.push('</domain>');
  return L.join('\n') + '\n';
}

/** The disks made from files in the instance directory: root (after the rescue disk in rescue mode), ephemerals, swap. */
function localDiskXml(r: InstanceRecord, env: DomainEnvironment, L: string[]): void {
  const rescue = r.mode === 'rescue' && r.rescueImage !== undefined;
  const rootBus = r.image.diskBus;
  const rootTarget = `${BUS_PREFIX[rootBus] ?? 'vd'}a`;
  if (rescue) {
    const rescueImage = r.rescueImage!;
    const rescueTarget = `${BUS_PREFIX[rescueImage.diskBus] ?? 'vd'}a`;
    L.push(diskXml({ type: 'file', path: rescueDiskPath(env), format: driverFormat(rescueImage.diskFormat), target: rescueTarget, bus: rescueImage.diskBus }, '    '));
    const used = new Set([rescueTarget, ...r.localDisks.map((d) => d.target), ...r.volumes.map((v) => v.target)]);
    const originalTarget = nextTarget(rootBus, used);
    L.push(diskXml({ type: 'file', path: rootDiskPath(env), format: driverFormat(r.image.diskFormat), target: originalTarget, bus: rootBus }, '    '));
  } else {
    L.push(diskXml({ type: 'file', path: rootDiskPath(env), format: driverFormat(r.image.diskFormat), target: rootTarget, bus: rootBus }, '    '));
  }
  r.localDisks.forEach((d, i) => {
    L.push(diskXml({ type: 'file', path: localDiskPath(env, d.kind, i), format: 'raw', target: d.target, bus: d.bus }, '    '));
  });
}

/** The first free device name on a bus (vda, vdb, ...), given the names in use. */
export function nextTarget(bus: string, used: ReadonlySet<string>): string {
  const prefix = BUS_PREFIX[bus] ?? 'vd';
  for (let i = 0; i < 26; i++) {
    const t = `${prefix}${String.fromCharCode(97 + i)}`;
    if (!used.has(t)) return t;
  }
  for (let i = 0; i < 26; i++) {
    for (let j = 0; j < 26; j++) {
      const t = `${prefix}${String.fromCharCode(97 + i)}${String.fromCharCode(97 + j)}`;
      if (!used.has(t)) return t;
    }
  }
  throw new RangeError(`no free device name on bus ${bus}`);
}
