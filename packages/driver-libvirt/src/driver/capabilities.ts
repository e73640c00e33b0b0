import { declareCapabilities, type CapabilityId, type DriverCapabilities } from '@nova-common/core';
import type { DriverContext } from './context.js';

const EVERYWHERE: CapabilityId[] = [
  'operation.launch',
  'operation.terminate',
  'operation.get-guest-info',
  'storage.image',
  'operation.power-on-off',
  'operation.reboot',
  'operation.pause',
  'operation.unpause',
  'operation.suspend',
  'operation.resume',
  'operation.rebuild',
  'operation.rescue',
  'operation.snapshot',
  'event.lifecycle',
];

/** Device hot-plug and the console log need a hypervisor: libvirt's test driver has neither. */
const HYPERVISOR_ONLY: CapabilityId[] = [
  'operation.attach-volume',
  'operation.detach-volume',
  'operation.attach-interface',
  'operation.detach-interface',
  'console.serial.log',
];

/** What this driver does on the connected backend (QEMU/KVM, or libvirt's test driver). */
export function capabilities(ctx: DriverContext): DriverCapabilities {
  const partial: Partial<Record<CapabilityId, string>> = {};
  if (!ctx.hasFiles) {
    partial['operation.snapshot'] = "On libvirt's test driver a snapshot is libvirt snapshot metadata of the domain; it goes away with the instance.";
  }
  return declareCapabilities({
    supported: ctx.hasFiles ? [...EVERYWHERE, ...HYPERVISOR_ONLY] : EVERYWHERE,
    partial,
    multiNode: false,
    // Volumes given at spawn go into the domain XML on every backend; hot-plug needs a hypervisor.
    volumeTransports: ['file', 'block'],
    eventualConsistency: { resourceReleaseMs: 0, eventDeliveryMs: ctx.config.eventDeliveryMs, nodeAvailableMs: 0 },
  });
}
