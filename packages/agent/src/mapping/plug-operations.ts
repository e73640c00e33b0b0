import type { DescMessage, DescMethod, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type { ConnectedVolume, ConnectorProperties, PluggedVif, VifType, VolumeTransport } from '@nova-common/core/plugs';
import * as pb from '../wire.js';
import { connectionInfoFromProto, connectionInfoToProto } from './block-device-info.js';
import { fromProto, optToProto, vifTypes, volumeTransports } from './enums.js';
import { vifFromProto, vifToProto } from './network-info.js';
import {
  connectedVolumeFromProto,
  connectedVolumeToProto,
  connectorPropertiesFromProto,
  connectorPropertiesToProto,
  plugInstanceFromProto,
  plugInstanceToProto,
  pluggedVifFromProto,
  pluggedVifToProto,
} from './plugs.js';

/** The RPCs of VifPlugsService and VolumeConnectorsService, by their local names. */
export type VifPlugOperation = keyof typeof pb.VifPlugsService.method;
export type VolumeConnectorOperation = keyof typeof pb.VolumeConnectorsService.method;
export type PlugOperation = VifPlugOperation | VolumeConnectorOperation;

/** What the Describe RPCs answer: the plug's own readonly fields, and the plug contract served. */
export interface VifPluginDescription {
  name: string;
  vifTypes: VifType[];
  plugContractVersion: string;
}
export interface VolumeConnectorDescription {
  name: string;
  transports: VolumeTransport[];
  plugContractVersion: string;
}

/**
 * One plug RPC: which plug answers it, whether it only reads, and the conversions between the
 * plug's positional arguments and results and the RPC's messages (server: toCall/toResponse;
 * client: toRequest/fromResponse).
 */
export interface PlugWireOperation<I extends DescMessage = DescMessage, O extends DescMessage = DescMessage> {
  readonly op: PlugOperation;
  readonly plug: 'vif' | 'volume';
  readonly read: boolean;
  readonly method: DescMethod & { input: I; output: O };
  toCall(request: MessageShape<I>): unknown[];
  toRequest(args: readonly unknown[]): MessageInitShape<I>;
  toResponse(result: unknown): MessageInitShape<O>;
  fromResponse(response: MessageShape<O>): unknown;
}

const none = () => [];
const empty = () => ({});
const V = pb.VifPlugsService.method;
const C = pb.VolumeConnectorsService.method;

type VifArgs = [Parameters<typeof vifToProto>[0], Parameters<typeof plugInstanceToProto>[0]];
type VolumeArgs = [string, Parameters<typeof connectionInfoToProto>[0]];

const vifCall = (r: pb.PlugRequest | pb.UnplugRequest) => [r.vif === undefined ? undefined : vifFromProto(r.vif), plugInstanceFromProto(r.instance)];
const vifRequest = (args: readonly unknown[]) => {
  const [vif, instance] = args as VifArgs;
  return { vif: vifToProto(vif), instance: plugInstanceToProto(instance) };
};
const volumeCall = (r: pb.ConnectRequest | pb.DisconnectRequest | pb.ExtendRequest) => [r.volumeId, connectionInfoFromProto(r.connectionInfo)];
const volumeRequest = (args: readonly unknown[]) => {
  const [volumeId, info] = args as VolumeArgs;
  // A transport the wire does not know travels as none: the agent's guard names the field.
  return { volumeId, connectionInfo: info === undefined ? undefined : connectionInfoToProto(info) };
};

function operation<I extends DescMessage, O extends DescMessage>(op: PlugWireOperation<I, O>): PlugWireOperation {
  return op as unknown as PlugWireOperation;
}

export const PLUG_WIRE_OPERATIONS: { readonly [K in PlugOperation]: PlugWireOperation } = {
  describeVifPlugin: operation({
    op: 'describeVifPlugin',
    plug: 'vif',
    read: true,
    method: V.describeVifPlugin,
    toCall: none,
    toRequest: empty,
    toResponse: (d) => {
      const { name, vifTypes: types, plugContractVersion } = d as VifPluginDescription;
      return { name, vifTypes: types.map((t) => optToProto(vifTypes, t)!), plugContractVersion };
    },
    fromResponse: (r) => ({ name: r.name, vifTypes: r.vifTypes.map((t) => fromProto(vifTypes, t)), plugContractVersion: r.plugContractVersion }),
  }),
  plug: operation({
    op: 'plug',
    plug: 'vif',
    read: false,
    method: V.plug,
    toCall: vifCall,
    toRequest: vifRequest,
    toResponse: (p) => ({ plugged: pluggedVifToProto(p as PluggedVif) }),
    fromResponse: (r) => (r.plugged === undefined ? undefined : pluggedVifFromProto(r.plugged)),
  }),
  unplug: operation({ op: 'unplug', plug: 'vif', read: false, method: V.unplug, toCall: vifCall, toRequest: vifRequest, toResponse: empty, fromResponse: () => undefined }),
  listPlugged: operation({
    op: 'listPlugged',
    plug: 'vif',
    read: true,
    method: V.listPlugged,
    toCall: none,
    toRequest: empty,
    toResponse: (list) => ({ plugged: (list as PluggedVif[]).map(pluggedVifToProto) }),
    fromResponse: (r) => r.plugged.map(pluggedVifFromProto),
  }),
  describeVolumeConnector: operation({
    op: 'describeVolumeConnector',
    plug: 'volume',
    read: true,
    method: C.describeVolumeConnector,
    toCall: none,
    toRequest: empty,
    toResponse: (d) => {
      const { name, transports, plugContractVersion } = d as VolumeConnectorDescription;
      return { name, transports: transports.map((t) => optToProto(volumeTransports, t)!), plugContractVersion };
    },
    fromResponse: (r) => ({ name: r.name, transports: r.transports.map((t) => fromProto(volumeTransports, t)), plugContractVersion: r.plugContractVersion }),
  }),
  getConnector: operation({
    op: 'getConnector',
    plug: 'volume',
    read: true,
    method: C.getConnector,
    toCall: none,
    toRequest: empty,
    toResponse: (c) => ({ connector: connectorPropertiesToProto(c as ConnectorProperties) }),
    fromResponse: (r) => (r.connector === undefined ? undefined : connectorPropertiesFromProto(r.connector)),
  }),
  connect: operation({
    op: 'connect',
    plug: 'volume',
    read: false,
    method: C.connect,
    toCall: volumeCall,
    toRequest: volumeRequest,
    toResponse: (v) => ({ volume: connectedVolumeToProto(v as ConnectedVolume) }),
    fromResponse: (r) => (r.volume === undefined ? undefined : connectedVolumeFromProto(r.volume)),
  }),
  disconnect: operation({ op: 'disconnect', plug: 'volume', read: false, method: C.disconnect, toCall: volumeCall, toRequest: volumeRequest, toResponse: empty, fromResponse: () => undefined }),
  extend: operation({
    op: 'extend',
    plug: 'volume',
    read: false,
    method: C.extend,
    toCall: volumeCall,
    toRequest: volumeRequest,
    toResponse: (v) => ({ volume: connectedVolumeToProto(v as ConnectedVolume) }),
    fromResponse: (r) => (r.volume === undefined ? undefined : connectedVolumeFromProto(r.volume)),
  }),
  listConnected: operation({
    op: 'listConnected',
    plug: 'volume',
    read: true,
    method: C.listConnected,
    toCall: none,
    toRequest: empty,
    toResponse: (list) => ({ volumes: (list as ConnectedVolume[]).map(connectedVolumeToProto) }),
    fromResponse: (r) => r.volumes.map(connectedVolumeFromProto),
  }),
};
