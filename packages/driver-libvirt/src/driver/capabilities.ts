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
  'operation.restore-state',
  'event.lifecycle',
  'event.out-of-band',
];

/**
 * Device hot-plug and the console log need a hypervisor: libvirt's test driver has neither.
 * Its snapshots are metadata of their instance's domain and go with it: they cannot be listed
 * once the instance is gone (R-SNAPSHOT-LIST), so listSnapshots needs image files too.
 */
const HYPERVISOR_ONLY: CapabilityId[] = [
  'operation.list-snapshots',
  'operation.attach-volume',
  'operation.detach-volume',
  'operation.extend-volume',
  'operation.attach-interface',
  'operation.detach-interface',
  'console.serial.log',
  // Between libvirt hosts (migration-*.ts); resize in place: the domain redefined with the new
  // flavor on its own host (migration-in-place.ts); evacuate: each host keeps its domains on its
  // own daemon and its files in its own instance directory, so a destroy removes only its own copy.
  'operation.migrate',
  'operation.live-migrate',
  'operation.resize-in-place',
  'operation.evacuate',
];

/** What libvirt's test driver does differently (it runs no guest and keeps its state in libvirtd's memory). */
const TEST_DRIVER_CAVEATS: Partial<Record<CapabilityId, string>> = {
  'operation.snapshot': "On libvirt's test driver a snapshot is libvirt snapshot metadata of the domain; it goes away with the instance.",
  'operation.restore-state':
    "libvirt's test driver keeps no state across a restart of libvirtd (its domains live in the daemon's memory while a connection is open), so there is nothing to restore after one; restoreState follows the table from every state it can reach (RUNNING, PAUSED, SHUTDOWN, SUSPENDED).",
};

/** With host plugs (plugs.ts), a move to another host cannot carry the taps and connected volumes yet. */
const PLUGS_NOT_MOVED =
  'Not for an instance with a VIF plugged by the configured VIF plugin or a volume connected by the configured volume connector: the destination would need its own taps and connections before the guest arrives, which this driver does not make yet; migrate refuses such an instance (UNSUPPORTED) and it stays as it is. A resize in place (sameHost) keeps them and works.';

/** What this driver does on the connected backend (QEMU/KVM, or libvirt's test driver). */
export function capabilities(ctx: DriverContext): DriverCapabilities {
  const withPlugs = ctx.plugs.vif !== undefined || ctx.plugs.volume !== undefined;
  const hypervisorCaveats: Partial<Record<CapabilityId, string>> = withPlugs ? { 'operation.migrate': PLUGS_NOT_MOVED, 'operation.live-migrate': PLUGS_NOT_MOVED } : {};
  // extendVolume grows the guest's disk over a volume it can grow or that is already grown; a
  // connector's volumes are the volume service's to grow first (volume-extend.ts).
  const hypervisor = ctx.plugs.volume !== undefined ? HYPERVISOR_ONLY.filter((id) => id !== 'operation.extend-volume') : HYPERVISOR_ONLY;
  return declareCapabilities({
    supported: ctx.hasFiles ? [...EVERYWHERE, ...hypervisor] : EVERYWHERE,
    partial: ctx.hasFiles ? hypervisorCaveats : TEST_DRIVER_CAVEATS,
    multiNode: false,
    // Volumes given at spawn go into the domain XML on every backend; hot-plug needs a hypervisor.
    // With a volume connector: the transports it connects.
    volumeTransports: ctx.plugs.volume !== undefined ? [...ctx.plugs.volume.transports] : ['file', 'block'],
    // Bridge ports (libvirt puts its own tap on the bridge, vifs.ts); with a VIF plugin, what it wires.
    vifTypes: ctx.plugs.vif !== undefined ? [...ctx.plugs.vif.vifTypes] : ['bridge'],
    eventualConsistency: { resourceReleaseMs: 0, eventDeliveryMs: ctx.config.eventDeliveryMs, nodeAvailableMs: 0 },
  });
}
