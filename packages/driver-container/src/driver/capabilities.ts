import { declareCapabilities, type DriverCapabilities } from '@nova-common/core';
import type { VifType, VolumeTransport } from '@nova-common/core/plugs';
import type { EngineKind } from '../mapping/engine-kind.js';
import { LIVE_MISSING } from './reservations.js';

/** Capability notes, shown in the support matrix. */
export const CAPABILITY_NOTES = {
  attachVolume:
    'Engines cannot add a mount to an existing container: the driver stops it, commits its writable layer, recreates it with the new mount from that commit and brings it back to its power state. The root filesystem is kept; running processes restart (like a reboot).',
  detachVolume: 'Same as attach: the container is recreated without the mount from a commit of its writable layer; processes restart.',
  attachInterface:
    "Hot-added through network connect on internal networks. Engines before API 1.44 (dockerd 20.10) assign the endpoint's MAC themselves: the VIF's address is recorded on the endpoint and reported, but the guest sees the engine's MAC.",
  attachInterfacePodman:
    "Hot-added through network connect on internal networks; podman assigns the endpoint's MAC itself (the VIF's address is recorded on the endpoint and reported). podman cannot change a paused container's networks: the driver unpauses it for the change and pauses it again, so a paused guest runs for a moment (RESUMED and PAUSED events).",
  migrate:
    'COLD only, between engines on one host (dockerd and podman, each its own socket): the container is stopped, its writable layer committed and streamed (save -> load) to the destination engine, recreated there with the same labels, metadata, volumes (same host paths) and VIFs (same ids and MACs), and started if it ran. Processes restart; IP addresses change (each engine has its own networks); the console log does not move (the destination\'s log starts at the arrival).',
  resizeInPlace:
    'The container is recreated with the new flavor through the replace path (stop, commit, recreate, start): container labels, which carry the flavor, cannot change, and podman 4.3\'s update does not last a restart. Processes restart.',
  liveMigrate: LIVE_MISSING,
  attachInterfacePlugged:
    "With a VIF plugin: the plugin plugs the port (a veth pair on its bridge) and the driver moves the peer into the running container as the next free eth<N>, with the port's MAC; on a stopped instance the VIF is recorded and wired at the next start. The ports are plugged again after every start (a container's network namespace ends with its run).",
  evacuate:
    "The instance of a dead host is spawned again from its spec: same uuid, labels, metadata, VIFs, and the same volume host paths, which every host must see (a shared volume root). Volumes are the caller's: the driver never creates, changes or removes a volume's file or device, so destroying the stale copy when its host comes back (a dockerd killed with its host brings it back stopped) removes only that engine's container, state image and the networks only it used, never the evacuated copy's data. podman is daemonless: its containers outlive a dead service, so a host counts as dead only once it is fenced (its containers stopped), as Nova requires, or both copies write the same volumes.",
  restoreState:
    'RUNNING, PAUSED and SHUTDOWN from every state a container can be in (containers come back stopped after an engine or host restart). SUSPENDED is UNSUPPORTED: a container has no saved memory image (operation.suspend is missing), so no instance is or can be made SUSPENDED.',
} as const;

/**
 * What the driver supports on the connected engine. suspend, resume, rescue and extend-volume
 * are missing everywhere (no checkpoint/restore on these engines' default builds; a
 * bind-mounted file shows a new size by itself), so the driver has no methods for them.
 * Detaching from a paused instance is refused by the table since 1.1, so podman's detach needs
 * no unpause any more; its attach still does.
 */
export function capabilitiesOf(
  engine: EngineKind,
  macHonoured: boolean,
  plugs: { vifPlugin: boolean; vifTypes?: readonly VifType[]; volumeTransports?: readonly VolumeTransport[] } = { vifPlugin: false },
): DriverCapabilities {
  const plugged = plugs.vifPlugin || plugs.volumeTransports !== undefined;
  const interfaces = plugs.vifPlugin
    ? { 'operation.attach-interface': CAPABILITY_NOTES.attachInterfacePlugged }
    : engine === 'podman'
      ? { 'operation.attach-interface': CAPABILITY_NOTES.attachInterfacePodman }
      : macHonoured
        ? {}
        : { 'operation.attach-interface': CAPABILITY_NOTES.attachInterface };
  return declareCapabilities({
    supported: [
      'operation.launch',
      'operation.terminate',
      'operation.get-guest-info',
      'storage.image',
      'operation.power-on-off',
      'operation.reboot',
      'operation.pause',
      'operation.unpause',
      'operation.attach-volume',
      'operation.detach-volume',
      'operation.attach-interface',
      'operation.detach-interface',
      'operation.snapshot',
      'operation.rebuild',
      'console.serial.log',
      'event.lifecycle',
      'operation.restore-state',
      'operation.list-snapshots',
      'event.out-of-band',
      ...(plugged ? [] : (['operation.migrate'] as const)),
      'operation.resize-in-place',
      'operation.evacuate',
      // operation.live-migrate is missing: CAPABILITY_NOTES.liveMigrate says why (no working CRIU here).
    ],
    partial: {
      'operation.attach-volume': CAPABILITY_NOTES.attachVolume,
      'operation.detach-volume': CAPABILITY_NOTES.detachVolume,
      'operation.restore-state': CAPABILITY_NOTES.restoreState,
      ...(plugged ? {} : { 'operation.migrate': CAPABILITY_NOTES.migrate }),
      'operation.resize-in-place': CAPABILITY_NOTES.resizeInPlace,
      'operation.evacuate': CAPABILITY_NOTES.evacuate,
      ...interfaces,
    },
    volumeTransports: plugs.volumeTransports !== undefined ? [...plugs.volumeTransports] : ['file', 'block'],
    vifTypes: plugs.vifTypes !== undefined ? [...plugs.vifTypes] : ['bridge'],
    eventualConsistency: { resourceReleaseMs: 0, eventDeliveryMs: 3000, nodeAvailableMs: 0 },
  });
}
