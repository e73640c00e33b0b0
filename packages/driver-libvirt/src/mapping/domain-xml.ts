import { escapeAttr, escapeText } from './xml-escape.js';
import { buildInstanceMetadata } from './metadata-xml.js';
import { instanceDiskFormat } from '../images/formats.js';
import { diskXml, interfaceXml, rngXml, serialXml, volumeDiskXml, type DiskCaches } from './device-xml.js';
import { clockXml, cpuXml, sysinfoXml, type CpuSettings } from './guest-xml.js';
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
  /** QEMU/KVM: the guest CPU (see guest-xml.ts). */
  cpu?: CpuSettings;
  /** QEMU/KVM: cache and I/O modes of file-backed and block disks. */
  caches?: DiskCaches;
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

export { diskXml, interfaceXml, volumeDiskXml, diskCache, type CacheMode, type DiskCache, type DiskCaches } from './device-xml.js';
export { defaultCpu, type CpuMode, type CpuSettings } from './guest-xml.js';

/**
 * The full domain XML for an instance record. Deterministic: the same record and
 * environment give the same bytes (golden tests pin it).
 */
export function buildDomainXml(r: InstanceRecord, env: DomainEnvironment): string {
  const hv = env.domainType !== 'test';
  const rescue = r.mode === 'rescue' && r.rescueImage !== undefined;
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
  if (hv) L.push(...sysinfoXml(r.uuid, '  '));
  L.push('  <os>');
  const machine = r.image.machine ? ` machine="${escapeAttr(r.image.machine)}"` : '';
  L.push(hv ? `    <type arch="x86_64"${machine}>hvm</type>` : '    <type>hvm</type>');
  if (env.kernel && hv) {
    L.push(`    <kernel>${escapeText(env.kernel)}</kernel>`);
    if (env.initrd) L.push(`    <initrd>${escapeText(env.initrd)}</initrd>`);
    if (env.kernelArgs) L.push(`    <cmdline>${escapeText(env.kernelArgs)}</cmdline>`);
  } else {
    L.push('    <boot dev="hd"/>');
  }
  if (hv) L.push('    <smbios mode="sysinfo"/>');
  L.push('  </os>');
  if (hv) {
    L.push('  <features>');
    L.push('    <acpi/>');
    L.push('    <apic/>');
    L.push('  </features>');
    if (env.cpu) L.push(...cpuXml(env.cpu, r.flavor.vcpus, '  '));
    L.push(...clockXml(r.image.osType, '  '));
  }
  L.push('  <on_poweroff>destroy</on_poweroff>');
  L.push('  <on_reboot>restart</on_reboot>');
  L.push('  <on_crash>destroy</on_crash>');
  L.push('  <devices>');
  // libvirt's test driver has no storage: its domains describe only the volumes' disks
  // (their serials tell which volumes are attached), not disks made from files on the host.
  if (hv) localDiskXml(r, env, L);
  // In rescue mode the guest gets the rescue disk and its own root disk only, as in Nova:
  // volumes stay the instance's (its record keeps them) and come back with unrescue.
  if (!rescue) for (const v of r.volumes) L.push(volumeDiskXml(v, env.caches, '    '));
  for (const n of r.interfaces) L.push(interfaceXml(n, '    '));
  if (env.consoleLog && hv) L.push(...serialXml(consoleLogPath(env), '    '));
  if (hv) L.push(...rngXml('    '));
  L.push('  </devices>');
  L.push('</domain>');
  return L.join('\n') + '\n';
}

/**
 * The disks made from files in the instance directory. Normally: root, ephemerals, swap. In
 * rescue mode, as Nova: the rescue disk first (the guest boots it), the instance's root disk
 * second, and nothing else (no ephemeral, swap or volume a rescue image could mistake for its own).
 */
function localDiskXml(r: InstanceRecord, env: DomainEnvironment, L: string[]): void {
  const cache = env.caches ? { cache: env.caches.file } : {};
  const rootBus = r.image.diskBus;
  const rootTarget = `${BUS_PREFIX[rootBus] ?? 'vd'}a`;
  if (r.mode === 'rescue' && r.rescueImage !== undefined) {
    const rescueImage = r.rescueImage;
    const rescueTarget = `${BUS_PREFIX[rescueImage.diskBus] ?? 'vd'}a`;
    L.push(diskXml({ type: 'file', path: rescueDiskPath(env), format: instanceDiskFormat(rescueImage.diskFormat), target: rescueTarget, bus: rescueImage.diskBus, ...cache }, '    '));
    const originalTarget = nextTarget(rootBus, new Set([rescueTarget]));
    L.push(diskXml({ type: 'file', path: rootDiskPath(env), format: instanceDiskFormat(r.image.diskFormat), target: originalTarget, bus: rootBus, ...cache }, '    '));
    return;
  }
  L.push(diskXml({ type: 'file', path: rootDiskPath(env), format: instanceDiskFormat(r.image.diskFormat), target: rootTarget, bus: rootBus, ...cache }, '    '));
  r.localDisks.forEach((d, i) => {
    L.push(diskXml({ type: 'file', path: localDiskPath(env, d.kind, i), format: 'raw', target: d.target, bus: d.bus, ...cache }, '    '));
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
