/** What the driver declares: bare-metal deploys, power, reboot, rebuild, interfaces; rescue, console and events partially. */
import { declareCapabilities, type DriverCapabilities } from '@nova-common/core';
import type { IronicDriverConfig } from '../config.js';

export function capabilitiesOf(config: IronicDriverConfig): DriverCapabilities {
  return declareCapabilities({
    supported: [
      'operation.launch',
      'operation.terminate',
      'operation.get-guest-info',
      'storage.image',
      'operation.power-on-off',
      'operation.reboot',
      'operation.attach-interface',
      'operation.detach-interface',
      'operation.rebuild',
      ...(config.events ? (['event.lifecycle'] as const) : []),
    ],
    partial: {
      'storage.image':
        'The image is passed to Ironic as instance_info.image_source (imageSourceTemplate); user data must be UTF-8 text (JSON config drive).',
      'operation.rescue': 'Ironic boots its configured rescue ramdisk: RescueSpec.image is not used; adminPassword becomes the rescue password.',
      'console.serial.log': 'Ironic exposes an interactive console, not a log: the output describes the node\'s console (enabled, type, URL).',
      ...(config.events
        ? { 'event.lifecycle': 'Events for power transitions made through this driver; Ironic pushes none, so changes made elsewhere are not reported.' }
        : {}),
    },
    multiNode: true,
    volumeTransports: [],
    eventualConsistency: {
      // destroy returns once Ironic has torn the node down and cleared instance_uuid: usage is released at once.
      resourceReleaseMs: 0,
      // events are emitted before the operation resolves.
      eventDeliveryMs: 0,
      nodeAvailableMs: config.nodeAvailableMs,
    },
  });
}
