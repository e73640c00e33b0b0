import { CAPABILITY_CATALOG, MANDATORY_CAPABILITIES, OPERATIONS, capabilitiesOfProfile, supports, type CapabilityId, type DriverCapabilities, type ProfileId } from '@nova-common/core';
import type { ResolvedOptions } from '../config.js';
import { SEQUENCE_OPS, type SequenceOp } from '../commands/call.js';
import type { CommandScope } from '../commands/intents.js';

/** Capabilities the profile filter keeps (core always), or undefined for all. */
export function allowedCapabilities(profiles: ProfileId[] | 'all'): Set<CapabilityId> | undefined {
  if (profiles === 'all') return undefined;
  const set = new Set<CapabilityId>(MANDATORY_CAPABILITIES);
  for (const p of profiles) for (const c of capabilitiesOfProfile(p)) set.add(c);
  return set;
}

/** Operations of the volumes profile: left out when the run has no volumes to give them. */
const VOLUME_OPS: readonly SequenceOp[] = SEQUENCE_OPS.filter((op) => {
  const cap = OPERATIONS[op].capability;
  return cap !== null && CAPABILITY_CATALOG[cap].profile === 'volumes';
});

/**
 * What a run may generate for a driver with `caps`. With the default volume connection (a
 * file path), volumes are generated only when the driver accepts file volumes; a driver of
 * other transports passes volumeConnection.
 */
export function commandScope(caps: DriverCapabilities, options: ResolvedOptions, simulate: { crash: boolean; noState: boolean }): CommandScope {
  const volumes = (options.volumeConnectionGiven || caps.volumeTransports.includes('file')) && supports(caps, 'operation.attach-volume');
  return {
    caps,
    allowed: allowedCapabilities(options.profiles),
    excluded: new Set(volumes ? [] : [...VOLUME_OPS, 'spawn:volumes']),
    maxInstances: options.maxInstances,
    images: options.images.length,
    simulate,
  };
}
