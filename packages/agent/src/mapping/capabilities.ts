import { create } from '@bufbuild/protobuf';
import type { CapabilityDeclaration, CapabilityId, DriverCapabilities } from '@nova-common/core';
import * as pb from '../wire.js';
import { fromProto, supportLevels, vifTypes, volumeTransports } from './enums.js';
import { mapRecord, opt } from './scalars.js';

export function capabilitiesToProto(caps: DriverCapabilities): pb.DriverCapabilities {
  return create(pb.DriverCapabilitiesSchema, {
    capabilities: mapRecord(caps.capabilities as Record<string, CapabilityDeclaration>, (d) => ({
      level: supportLevels.toProto(d.level),
      notes: d.notes,
    })),
    multiNode: caps.multiNode,
    volumeTransports: caps.volumeTransports.map((t) => volumeTransports.toProto(t)),
    eventualConsistency: { ...caps.eventualConsistency },
    ...(caps.vifTypes === undefined ? {} : { vifTypes: { types: caps.vifTypes.map((t) => vifTypes.toProto(t)) } }),
  });
}

/** The wire's declaration. An unknown capability id stays a key, for validation to refuse. */
export function capabilitiesFromProto(caps: pb.DriverCapabilities): DriverCapabilities {
  const ec = caps.eventualConsistency;
  return {
    capabilities: mapRecord(caps.capabilities, (d) => ({
      level: fromProto(supportLevels, d.level),
      ...opt('notes', d.notes),
    })) as Record<CapabilityId, CapabilityDeclaration>,
    multiNode: caps.multiNode,
    volumeTransports: caps.volumeTransports.map((t) => fromProto(volumeTransports, t)),
    ...(caps.vifTypes === undefined ? {} : { vifTypes: caps.vifTypes.types.map((t) => fromProto(vifTypes, t)) }),
    eventualConsistency: (ec === undefined
      ? undefined
      : { resourceReleaseMs: ec.resourceReleaseMs, eventDeliveryMs: ec.eventDeliveryMs, nodeAvailableMs: ec.nodeAvailableMs }) as DriverCapabilities['eventualConsistency'],
  };
}
