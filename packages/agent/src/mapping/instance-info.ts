import { create } from '@bufbuild/protobuf';
import type { InstanceInfo, InstanceSummary } from '@nova-common/core';
import * as pb from '../wire.js';
import { fromProto, instanceModes, powerStates } from './enums.js';
import { opt, optNum, optU64, record } from './scalars.js';

export function instanceInfoToProto(info: InstanceInfo): pb.InstanceInfo {
  return create(pb.InstanceInfoSchema, {
    uuid: info.uuid,
    name: info.name,
    powerState: powerStates.toProto(info.powerState),
    mode: instanceModes.toProto(info.mode),
    node: info.node,
    metadata: info.metadata,
    volumes: info.volumes.map((v) => ({ volumeId: v.volumeId, deviceName: v.deviceName, sizeGb: optU64(v.sizeGb) })),
    interfaces: info.interfaces.map((i) => ({ id: i.id, address: i.address })),
  });
}

export function instanceInfoFromProto(info: pb.InstanceInfo): InstanceInfo {
  return {
    uuid: info.uuid,
    name: info.name,
    powerState: fromProto(powerStates, info.powerState),
    mode: fromProto(instanceModes, info.mode),
    node: info.node,
    metadata: record(info.metadata),
    volumes: info.volumes.map((v) => ({ volumeId: v.volumeId, ...opt('deviceName', v.deviceName), ...opt('sizeGb', optNum(v.sizeGb)) })),
    interfaces: info.interfaces.map((i) => ({ id: i.id, address: i.address })),
  };
}

export function instanceSummaryToProto(s: InstanceSummary): pb.InstanceSummary {
  return create(pb.InstanceSummarySchema, { uuid: s.uuid, name: s.name, node: s.node, metadata: s.metadata });
}

export function instanceSummaryFromProto(s: pb.InstanceSummary): InstanceSummary {
  return { uuid: s.uuid, name: s.name, node: s.node, metadata: record(s.metadata) };
}
