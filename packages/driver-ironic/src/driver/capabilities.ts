/**
 * What the driver declares: bare-metal deploys, power, reboot, rebuild, interfaces, restoring
 * power after a restart; rescue, console and restoreState partially; events for its own calls
 * and, through polling, for changes Ironic records that it did not make. Bare metal has no pause,
 * suspend, volumes or snapshots (so nothing for listSnapshots to list either): missing.
 *
 * Migration (contract 1.2), missing: a bare-metal instance is its machine, so there is no memory or
 * disk image to move to another node and Ironic has no migration; a new flavor is a new node (a new
 * spawn), not a resize. Evacuate is missing too: the same uuid spawned on another node of the same
 * Ironic makes the conductor's nodes two copies of one instance under one driver, which the contract's
 * ownership (one instance, one node) forbids. The suite verifies each missing operation raises
 * UNSUPPORTED and changes nothing (P-UNSUPPORTED-operation.migrate and the kinds').
 */
import { VifTypeSchema, declareCapabilities, type CapabilityId, type DriverCapabilities } from '@nova-common/core';
import type { IronicDriverConfig } from '../config.js';

export function capabilitiesOf(config: IronicDriverConfig): DriverCapabilities {
  const events = config.events;
  const outOfBand = events && config.eventPollMs > 0;
  const supported: CapabilityId[] = [
    'operation.launch',
    'operation.terminate',
    'operation.get-guest-info',
    'storage.image',
    'operation.power-on-off',
    'operation.reboot',
    'operation.attach-interface',
    'operation.detach-interface',
    'operation.rebuild',
  ];
  if (events) supported.push('event.lifecycle');
  if (outOfBand) supported.push('event.out-of-band');
  return declareCapabilities({
    supported,
    partial: {
      'storage.image':
        'The image is passed to Ironic as instance_info.image_source (imageSourceTemplate); user data must be UTF-8 text (JSON config drive).',
      'operation.rescue': 'Ironic boots its configured rescue ramdisk: RescueSpec.image is not used; adminPassword becomes the rescue password.',
      'console.serial.log': 'Ironic exposes an interactive console, not a log: the output describes the node\'s console (enabled, type, URL).',
      'operation.restore-state':
        'RUNNING and SHUTDOWN (a CRASHED node is recovered first); PAUSED and SUSPENDED do not exist on bare metal and are UNSUPPORTED.',
      ...(outOfBand
        ? {
            'event.out-of-band': `Changes Ironic records (an operator's API call, a failed deploy, Ironic's power sync noticing a machine went off), seen by polling every ${config.eventPollMs} ms while anyone listens; a guest that shuts itself down is seen once Ironic's power sync has noticed it.`,
          }
        : {}),
    },
    multiNode: true,
    volumeTransports: [],
    // Ironic attaches a port to the node by its id (POST /v1/nodes/{node}/vifs) and the network
    // service binds it for the node: the type is the network service's business, never refused here.
    vifTypes: [...VifTypeSchema.options],
    eventualConsistency: {
      // destroy returns once Ironic has torn the node down and cleared instance_uuid: usage is released at once.
      resourceReleaseMs: 0,
      // events of the driver's own calls come before the call resolves; out-of-band ones within a poll.
      eventDeliveryMs: outOfBand ? config.eventDeliveryMs : 0,
      nodeAvailableMs: config.nodeAvailableMs,
    },
  });
}
