import { create } from '@bufbuild/protobuf';
import type { Vif, VifInput } from '@nova-common/core';
import * as pb from '../wire.js';
import { fixedIpTypes, optFromProto, optToProto, vifTypes, vnicTypes } from './enums.js';
import { opt, record } from './scalars.js';

type NetworkInput = VifInput['network'];
type SubnetInput = NonNullable<NetworkInput['subnets']>[number];
type FixedIpInput = NonNullable<SubnetInput['ips']>[number];

function fixedIpToProto(ip: FixedIpInput): pb.FixedIp {
  return create(pb.FixedIpSchema, { address: ip.address, type: optToProto(fixedIpTypes, ip.type) });
}

function subnetToProto(subnet: SubnetInput): pb.Subnet {
  return create(pb.SubnetSchema, {
    cidr: subnet.cidr,
    gateway: subnet.gateway,
    ips: (subnet.ips ?? []).map(fixedIpToProto),
    dns: subnet.dns ?? [],
  });
}

function networkToProto(network: NetworkInput): pb.Network {
  return create(pb.NetworkSchema, {
    id: network.id,
    label: network.label,
    bridge: network.bridge,
    mtu: network.mtu,
    subnets: (network.subnets ?? []).map(subnetToProto),
  });
}

/** A VIF, input or parsed form, to the wire. */
export function vifToProto(vif: VifInput | Vif): pb.Vif {
  return create(pb.VifSchema, {
    id: vif.id,
    address: vif.address,
    network: networkToProto(vif.network),
    type: optToProto(vifTypes, vif.type),
    vnicType: optToProto(vnicTypes, vif.vnicType),
    profile: vif.profile ?? {},
    details: vif.details ?? {},
    devname: vif.devname,
    active: vif.active,
  });
}

function networkFromProto(network: pb.Network): NetworkInput {
  return {
    id: network.id,
    ...opt('label', network.label),
    ...opt('bridge', network.bridge),
    ...opt('mtu', network.mtu),
    subnets: network.subnets.map((s) => ({
      cidr: s.cidr,
      ...opt('gateway', s.gateway),
      ips: s.ips.map((ip) => ({ address: ip.address, ...opt('type', optFromProto(fixedIpTypes, ip.type)) })),
      dns: [...s.dns],
    })),
  };
}

/**
 * The wire's VIF as the contract's input. A VIF without a network comes through without one,
 * so the guard names `network` as missing.
 */
export function vifFromProto(vif: pb.Vif): VifInput {
  return {
    id: vif.id,
    address: vif.address,
    network: (vif.network === undefined ? undefined : networkFromProto(vif.network)) as NetworkInput,
    ...opt('type', optFromProto(vifTypes, vif.type)),
    ...opt('vnicType', optFromProto(vnicTypes, vif.vnicType)),
    profile: record(vif.profile),
    details: record(vif.details),
    ...opt('devname', vif.devname),
    ...opt('active', vif.active),
  };
}
