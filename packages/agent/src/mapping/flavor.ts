import { create } from '@bufbuild/protobuf';
import type { Flavor, FlavorInput } from '@nova-common/core';
import * as pb from '../wire.js';
import { opt, record } from './scalars.js';

export function flavorToProto(flavor: FlavorInput | Flavor): pb.Flavor {
  return create(pb.FlavorSchema, {
    id: flavor.id,
    name: flavor.name,
    vcpus: flavor.vcpus,
    memoryMb: flavor.memoryMb,
    rootGb: flavor.rootGb,
    ephemeralGb: flavor.ephemeralGb,
    swapMb: flavor.swapMb,
    extraSpecs: flavor.extraSpecs ?? {},
  });
}

/** Wire to contract input. A map has no "absent" on the wire: extra_specs is always given (empty is the default). */
export function flavorFromProto(flavor: pb.Flavor): FlavorInput {
  return {
    id: flavor.id,
    name: flavor.name,
    vcpus: flavor.vcpus,
    memoryMb: flavor.memoryMb,
    rootGb: flavor.rootGb,
    ...opt('ephemeralGb', flavor.ephemeralGb),
    ...opt('swapMb', flavor.swapMb),
    extraSpecs: record(flavor.extraSpecs),
  };
}
