/**
 * Capability ids. Where Nova's support matrix (doc/source/user/support-matrix.ini) has a
 * feature for the same thing, the id is Nova's, so the matrices line up; ids Nova lacks
 * are marked `nova: false`.
 */
export const CAPABILITY_CATALOG = {
  'operation.launch': { title: 'Launch instance', profile: 'core', nova: true, since: '1.0.0' },
  'operation.terminate': { title: 'Terminate instance', profile: 'core', nova: true, since: '1.0.0' },
  'operation.get-guest-info': { title: 'Guest instance status', profile: 'core', nova: true, since: '1.0.0' },
  'storage.image': { title: 'Image-backed root disk', profile: 'core', nova: true, since: '1.0.0' },
  'operation.power-on-off': { title: 'Power off / power on', profile: 'power', nova: false, since: '1.0.0' },
  'operation.reboot': { title: 'Reboot instance (soft and hard)', profile: 'power', nova: true, since: '1.0.0' },
  'operation.pause': { title: 'Stop instance CPUs (pause)', profile: 'lifecycle', nova: true, since: '1.0.0' },
  'operation.unpause': { title: 'Resume instance CPUs (unpause)', profile: 'lifecycle', nova: true, since: '1.0.0' },
  'operation.suspend': { title: 'Suspend instance', profile: 'lifecycle', nova: true, since: '1.0.0' },
  'operation.resume': { title: 'Restore instance', profile: 'lifecycle', nova: true, since: '1.0.0' },
  'operation.attach-volume': { title: 'Attach block volume to instance', profile: 'volumes', nova: true, since: '1.0.0' },
  'operation.detach-volume': { title: 'Detach block volume from instance', profile: 'volumes', nova: true, since: '1.0.0' },
  'operation.extend-volume': { title: 'Extend block volume attached to instance', profile: 'volumes', nova: true, since: '1.0.0' },
  'operation.attach-interface': { title: 'Attach virtual network interface to instance', profile: 'network-hotplug', nova: true, since: '1.0.0' },
  'operation.detach-interface': { title: 'Detach virtual network interface from instance', profile: 'network-hotplug', nova: true, since: '1.0.0' },
  'operation.snapshot': { title: 'Save snapshot of instance disk', profile: 'snapshot', nova: true, since: '1.0.0' },
  'operation.rebuild': { title: 'Rebuild instance', profile: 'rebuild', nova: true, since: '1.0.0' },
  'operation.rescue': { title: 'Rescue instance', profile: 'rescue', nova: true, since: '1.0.0' },
  'console.serial.log': { title: 'Serial console log', profile: 'console', nova: true, since: '1.0.0' },
  'event.lifecycle': { title: 'Lifecycle events', profile: 'lifecycle', nova: false, since: '1.0.0' },
  'operation.restore-state': { title: 'Restore instance state after a host restart', profile: 'recovery', nova: false, since: '1.1.0' },
  'operation.list-snapshots': { title: 'List the images snapshots made', profile: 'recovery', nova: false, since: '1.1.0' },
  'event.out-of-band': { title: 'Events for changes no call asked for', profile: 'recovery', nova: false, since: '1.1.0' },
  'operation.migrate': { title: 'Cold migrate and resize instance between hosts', profile: 'migration', nova: true, since: '1.2.0' },
  'operation.live-migrate': { title: 'Live migrate instance', profile: 'migration', nova: true, since: '1.2.0' },
  'operation.resize-in-place': { title: 'Resize instance on its own host', profile: 'migration', nova: true, since: '1.2.0' },
  'operation.evacuate': { title: 'Evacuate instances from a dead host', profile: 'migration', nova: true, since: '1.2.0' },
} as const satisfies Record<string, { title: string; profile: ProfileId; nova: boolean; since: string }>;

export type CapabilityId = keyof typeof CAPABILITY_CATALOG;
export const CAPABILITY_IDS = Object.keys(CAPABILITY_CATALOG) as CapabilityId[];

export type ProfileId = 'core' | 'power' | 'lifecycle' | 'volumes' | 'network-hotplug' | 'snapshot' | 'rebuild' | 'rescue' | 'console' | 'recovery' | 'migration';
export const PROFILE_IDS: readonly ProfileId[] = ['core', 'power', 'lifecycle', 'volumes', 'network-hotplug', 'snapshot', 'rebuild', 'rescue', 'console', 'recovery', 'migration'];

/**
 * Capabilities a driver built against `baseline` (the lowest contract version its manifest
 * accepts) must declare. Later ones may be absent from its declaration and read as missing:
 * a 1.0 driver keeps loading, and keeps passing the suite, under a 1.1 core.
 */
export function capabilitiesKnownAt(baseline: string): CapabilityId[] {
  return CAPABILITY_IDS.filter((id) => compareVersions(CAPABILITY_CATALOG[id].since, baseline) <= 0);
}

/** Compare two x.y.z versions numerically. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Capabilities every driver must support: the core profile. */
export const MANDATORY_CAPABILITIES: readonly CapabilityId[] = CAPABILITY_IDS.filter(
  (id) => CAPABILITY_CATALOG[id].profile === 'core',
);

export function capabilitiesOfProfile(profile: ProfileId): CapabilityId[] {
  return CAPABILITY_IDS.filter((id) => CAPABILITY_CATALOG[id].profile === profile);
}

export function isCapabilityId(value: unknown): value is CapabilityId {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(CAPABILITY_CATALOG, value);
}
