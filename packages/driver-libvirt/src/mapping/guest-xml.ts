import { escapeText } from './xml-escape.js';

/**
 * The guest platform of a QEMU/KVM domain: CPU model, clock, SMBIOS system information. Each
 * choice and its reason is in the README ("What a guest gets").
 */

/** libvirt's CPU modes: host-model/host-passthrough need KVM; maximum is QEMU's `max` (all TCG can emulate). */
export type CpuMode = 'host-model' | 'host-passthrough' | 'custom' | 'maximum';

export interface CpuSettings {
  mode: CpuMode;
  /** The named model for mode custom (e.g. qemu64, Haswell-noTSX, EPYC). */
  model?: string;
}

/** The default: the host's model under KVM (as Nova), the most TCG can emulate under QEMU (QEMU's own default, qemu64, lacks x86-64-v2). */
export function defaultCpu(domainType: 'qemu' | 'kvm'): CpuSettings {
  return domainType === 'kvm' ? { mode: 'host-model' } : { mode: 'maximum' };
}

export function cpuXml(cpu: CpuSettings, vcpus: number, indent = ''): string[] {
  const topology = `${indent}  <topology sockets="${vcpus}" dies="1" cores="1" threads="1"/>`;
  if (cpu.mode === 'custom') {
    return [`${indent}<cpu mode="custom" match="exact">`, `${indent}  <model fallback="forbid">${escapeText(cpu.model ?? 'qemu64')}</model>`, topology, `${indent}</cpu>`];
  }
  return [`${indent}<cpu mode="${cpu.mode}">`, topology, `${indent}</cpu>`];
}

/**
 * UTC (localtime for Windows, whose clock is local by convention), as Nova: late PIT ticks are
 * delayed (not replayed in bursts), the RTC catches up, and no HPET (guests then pick the
 * cheaper kvmclock/TSC).
 */
export function clockXml(osType: string | undefined, indent = ''): string[] {
  return [
    `${indent}<clock offset="${osType === 'windows' ? 'localtime' : 'utc'}">`,
    `${indent}  <timer name="pit" tickpolicy="delay"/>`,
    `${indent}  <timer name="rtc" tickpolicy="catchup"/>`,
    `${indent}  <timer name="hpet" present="no"/>`,
    `${indent}</clock>`,
  ];
}

/** SMBIOS system information (`dmidecode -s system-uuid` in the guest gives the instance uuid); needs `<smbios mode="sysinfo"/>` in <os>. */
export function sysinfoXml(uuid: string, indent = ''): string[] {
  return [
    `${indent}<sysinfo type="smbios">`,
    `${indent}  <system>`,
    `${indent}    <entry name="manufacturer">nova-common</entry>`,
    `${indent}    <entry name="product">nova-common compute</entry>`,
    `${indent}    <entry name="uuid">${escapeText(uuid)}</entry>`,
    `${indent}    <entry name="family">Virtual Machine</entry>`,
    `${indent}  </system>`,
    `${indent}</sysinfo>`,
  ];
}
