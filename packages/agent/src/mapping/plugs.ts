import { create } from '@bufbuild/protobuf';
import type { ConnectedVolume, ConnectorProperties, PlugInstance, PluggedVif } from '@nova-common/core/plugs';
import * as pb from '../wire.js';
import { connectedVolumeKinds, fromProto, optToProto, pluggedDeviceKinds } from './enums.js';
import { num, opt, u64 } from './scalars.js';

/**
 * The plug contracts' messages (`@nova-common/core/plugs` schemas) and their wire form. As for
 * the compute messages, wire-to-contract conversions never throw: what the contract cannot
 * hold comes through for the plug guard to refuse at its field.
 */

export function plugInstanceToProto(instance: PlugInstance): pb.PlugInstance {
  return create(pb.PlugInstanceSchema, { uuid: instance.uuid, name: instance.name });
}

/** A missing instance comes through as undefined, so the guard names `instance`. */
export function plugInstanceFromProto(instance: pb.PlugInstance | undefined): PlugInstance {
  return (instance === undefined ? undefined : { uuid: instance.uuid, ...opt('name', instance.name) }) as PlugInstance;
}

export function pluggedVifToProto(p: PluggedVif): pb.PluggedVif {
  return create(pb.PluggedVifSchema, {
    vifId: p.vifId,
    instanceUuid: p.instanceUuid,
    kind: optToProto(pluggedDeviceKinds, p.kind),
    device: p.device,
    peer: p.peer,
    bridge: p.bridge,
    address: p.address,
    mtu: p.mtu,
  });
}

export function pluggedVifFromProto(p: pb.PluggedVif): PluggedVif {
  return {
    vifId: p.vifId,
    instanceUuid: p.instanceUuid,
    kind: fromProto(pluggedDeviceKinds, p.kind),
    device: p.device,
    ...opt('peer', p.peer),
    ...opt('bridge', p.bridge),
    address: p.address,
    ...opt('mtu', p.mtu),
  };
}

export function connectorPropertiesToProto(c: ConnectorProperties): pb.ConnectorProperties {
  return create(pb.ConnectorPropertiesSchema, {
    host: c.host,
    ips: [...c.ips],
    initiator: c.initiator,
    multipath: c.multipath,
    platform: c.platform,
    osType: c.osType,
  });
}

export function connectorPropertiesFromProto(c: pb.ConnectorProperties): ConnectorProperties {
  return {
    host: c.host,
    ips: [...c.ips],
    ...opt('initiator', c.initiator),
    multipath: c.multipath,
    platform: c.platform,
    osType: c.osType,
  };
}

export function connectedVolumeToProto(v: ConnectedVolume): pb.ConnectedVolume {
  return create(pb.ConnectedVolumeSchema, { volumeId: v.volumeId, kind: optToProto(connectedVolumeKinds, v.kind), path: v.path, sizeBytes: u64(v.sizeBytes) });
}

export function connectedVolumeFromProto(v: pb.ConnectedVolume): ConnectedVolume {
  return { volumeId: v.volumeId, kind: fromProto(connectedVolumeKinds, v.kind), path: v.path, sizeBytes: num(v.sizeBytes) };
}
