import { escapeAttr, escapeText } from './xml-escape.js';
import type { InstanceRecord, InterfaceRecord } from './instance-record.js';

/** libvirt's disk cache modes (`<driver cache=...>`). */
export type CacheMode = 'none' | 'writeback' | 'writethrough' | 'directsync' | 'unsafe';

/** Cache and I/O mode of a disk: io="native" only goes with a cache mode that bypasses the host page cache. */
export interface DiskCache {
  cache: CacheMode;
  io?: 'native' | 'threads';
}

/** The disk cache of file-backed disks and of host block devices. */
export interface DiskCaches {
  file: DiskCache;
  block: DiskCache;
}

/** The cache of a disk given a cache mode: io native where QEMU opens the file with O_DIRECT. */
export function diskCache(cache: CacheMode): DiskCache {
  return cache === 'none' || cache === 'directsync' ? { cache, io: 'native' } : { cache };
}

export interface DiskXml {
  type: 'file' | 'block';
  path: string;
  format: 'qcow2' | 'raw';
  target: string;
  bus: string;
  serial?: string;
  readonly?: boolean;
  cache?: DiskCache;
}

/** One <disk> element; also used alone for attach/detach. */
export function diskXml(d: DiskXml, indent = ''): string {
  const device = d.bus === 'fdc' ? 'floppy' : 'disk';
  const source = d.type === 'block' ? `<source dev="${escapeAttr(d.path)}"/>` : `<source file="${escapeAttr(d.path)}"/>`;
  const cache = d.cache ? ` cache="${d.cache.cache}"${d.cache.io ? ` io="${d.cache.io}"` : ''}` : '';
  const parts = [
    `${indent}<disk type="${d.type}" device="${device}">`,
    `${indent}  <driver name="qemu" type="${d.format}"${cache}/>`,
    `${indent}  ${source}`,
    `${indent}  <target dev="${escapeAttr(d.target)}" bus="${escapeAttr(d.bus)}"/>`,
  ];
  if (d.serial) parts.push(`${indent}  <serial>${escapeText(d.serial)}</serial>`);
  if (d.readonly) parts.push(`${indent}  <readonly/>`);
  parts.push(`${indent}</disk>`);
  return parts.join('\n');
}

/**
 * One <interface> element; also used alone for attach/detach. A VIF a VIF plugin plugged is
 * the tap it made, which the guest's NIC opens as it is (`type='ethernet'`, `managed='no'`:
 * libvirt neither creates nor removes it). Otherwise a VIF on a named bridge is a tap device
 * libvirt adds to that bridge (its name the VIF's devname when given, its MTU the network's);
 * a VIF without a bridge gets QEMU's user-mode network (a NIC with no host wiring).
 */
export function interfaceXml(n: Pick<InterfaceRecord, 'mac' | 'model' | 'bridge' | 'mtu' | 'devname' | 'plugged'>, indent = ''): string {
  if (n.plugged !== undefined) {
    const L = [
      `${indent}<interface type="ethernet">`,
      `${indent}  <mac address="${escapeAttr(n.mac.toLowerCase())}"/>`,
      `${indent}  <target dev="${escapeAttr(n.plugged)}" managed="no"/>`,
      `${indent}  <model type="${escapeAttr(n.model)}"/>`,
    ];
    if (n.mtu !== undefined) L.push(`${indent}  <mtu size="${n.mtu}"/>`);
    L.push(`${indent}</interface>`);
    return L.join('\n');
  }
  const L = [`${indent}<interface type="${n.bridge !== undefined ? 'bridge' : 'user'}">`, `${indent}  <mac address="${escapeAttr(n.mac.toLowerCase())}"/>`];
  if (n.bridge !== undefined) L.push(`${indent}  <source bridge="${escapeAttr(n.bridge)}"/>`);
  if (n.bridge !== undefined && n.devname !== undefined) L.push(`${indent}  <target dev="${escapeAttr(n.devname)}"/>`);
  L.push(`${indent}  <model type="${escapeAttr(n.model)}"/>`);
  if (n.bridge !== undefined && n.mtu !== undefined) L.push(`${indent}  <mtu size="${n.mtu}"/>`);
  L.push(`${indent}</interface>`);
  return L.join('\n');
}

/** The volume's <disk> element as attached. */
export function volumeDiskXml(v: InstanceRecord['volumes'][number], caches?: DiskCaches, indent = ''): string {
  const cache = caches ? (v.source === 'block' ? caches.block : caches.file) : undefined;
  return diskXml({ type: v.source, path: v.path, format: 'raw', target: v.target, bus: v.bus, serial: v.id, ...(cache ? { cache } : {}) }, indent);
}

/**
 * The serial console: a pty (an interactive console stays possible) whose output libvirt logs to
 * `logPath` through virtlogd, which caps the file (max_size, 2 MiB by default) and keeps
 * max_backups rotated files (3): the log is bounded whatever the guest prints, across boots.
 */
export function serialXml(logPath: string, indent = ''): string[] {
  return [
    `${indent}<serial type="pty">`,
    `${indent}  <log file="${escapeAttr(logPath)}" append="on"/>`,
    `${indent}  <target port="0"/>`,
    `${indent}</serial>`,
    `${indent}<console type="pty">`,
    `${indent}  <target type="serial" port="0"/>`,
    `${indent}</console>`,
  ];
}

/** A virtio RNG fed from the host's /dev/urandom (never blocks, as Nova's default). */
export function rngXml(indent = ''): string[] {
  return [`${indent}<rng model="virtio">`, `${indent}  <backend model="random">/dev/urandom</backend>`, `${indent}</rng>`];
}
