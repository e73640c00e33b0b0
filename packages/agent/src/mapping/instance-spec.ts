import { create } from '@bufbuild/protobuf';
import type {
  InstanceSpec,
  InstanceSpecInput,
  RebuildSpec,
  RebuildSpecInput,
  RescueSpec,
  RescueSpecInput,
  SnapshotSpec,
} from '@nova-common/core';
import * as pb from '../wire.js';
import { blockDeviceInfoFromProto, blockDeviceInfoToProto } from './block-device-info.js';
import { flavorFromProto, flavorToProto } from './flavor.js';
import { imageMetaFromProto, imageMetaToProto } from './image-meta.js';
import { vifFromProto, vifToProto } from './network-info.js';
import { opt, record } from './scalars.js';

/** An instance spec, input or parsed form, to the wire. */
export function instanceSpecToProto(spec: InstanceSpecInput | InstanceSpec): pb.InstanceSpec {
  return create(pb.InstanceSpecSchema, {
    uuid: spec.uuid,
    name: spec.name,
    flavor: flavorToProto(spec.flavor),
    image: imageMetaToProto(spec.image),
    metadata: spec.metadata ?? {},
    userData: spec.userData,
    keyData: spec.keyData,
    networkInfo: (spec.networkInfo ?? []).map(vifToProto),
    blockDeviceInfo: spec.blockDeviceInfo === undefined ? undefined : blockDeviceInfoToProto(spec.blockDeviceInfo),
    powerOn: spec.powerOn,
    node: spec.node,
  });
}

/**
 * The wire's spec as the contract's input. Missing messages (no flavor, no image) come
 * through as absent fields, which the guard reports at their path.
 */
export function instanceSpecFromProto(spec: pb.InstanceSpec): InstanceSpecInput {
  return {
    uuid: spec.uuid,
    name: spec.name,
    flavor: (spec.flavor === undefined ? undefined : flavorFromProto(spec.flavor)) as InstanceSpecInput['flavor'],
    image: (spec.image === undefined ? undefined : imageMetaFromProto(spec.image)) as InstanceSpecInput['image'],
    metadata: record(spec.metadata),
    ...opt('userData', spec.userData),
    ...opt('keyData', spec.keyData),
    networkInfo: spec.networkInfo.map(vifFromProto),
    ...opt('blockDeviceInfo', spec.blockDeviceInfo === undefined ? undefined : blockDeviceInfoFromProto(spec.blockDeviceInfo)),
    ...opt('powerOn', spec.powerOn),
    ...opt('node', spec.node),
  };
}

export function rebuildSpecToProto(spec: RebuildSpecInput | RebuildSpec): pb.RebuildSpec {
  return create(pb.RebuildSpecSchema, {
    image: imageMetaToProto(spec.image),
    // Absent metadata keeps the instance's; an empty message clears it: the wrapper keeps them apart.
    metadata: spec.metadata === undefined ? undefined : { entries: spec.metadata },
    preserveEphemeral: spec.preserveEphemeral,
  });
}

export function rebuildSpecFromProto(spec: pb.RebuildSpec): RebuildSpecInput {
  return {
    image: (spec.image === undefined ? undefined : imageMetaFromProto(spec.image)) as RebuildSpecInput['image'],
    ...opt('metadata', spec.metadata === undefined ? undefined : record(spec.metadata.entries)),
    ...opt('preserveEphemeral', spec.preserveEphemeral),
  };
}

export function rescueSpecToProto(spec: RescueSpecInput | RescueSpec): pb.RescueSpec {
  return create(pb.RescueSpecSchema, {
    image: spec.image === undefined ? undefined : imageMetaToProto(spec.image),
    adminPassword: spec.adminPassword,
  });
}

export function rescueSpecFromProto(spec: pb.RescueSpec): RescueSpecInput {
  return {
    ...opt('image', spec.image === undefined ? undefined : imageMetaFromProto(spec.image)),
    ...opt('adminPassword', spec.adminPassword),
  };
}

export function snapshotSpecToProto(spec: SnapshotSpec): pb.SnapshotSpec {
  return create(pb.SnapshotSpecSchema, { name: spec.name });
}

export function snapshotSpecFromProto(spec: pb.SnapshotSpec): SnapshotSpec {
  return { name: spec.name };
}
