import type { VifInput } from '@nova-common/core';
import type {
  ConnectedVolume,
  ConnectionInfoInput,
  ConnectorProperties,
  GuardedVifPlugin,
  GuardedVolumeConnector,
  PlugCallOptions,
  PlugInstance,
  PluggedVif,
  VifType,
  VolumeTransport,
} from '@nova-common/core/plugs';
import type { VifPluginDescription, VolumeConnectorDescription } from '../mapping/plug-operations.js';
import { PlugClient, type RemotePlugConfig } from './plug-client.js';

/**
 * A VifPlugin whose every call is a call to a host agent's VifPlugsService. Inputs travel as
 * given and the agent's plug guard parses them, so an invalid one comes back INVALID_INPUT
 * naming the field, as from a local guarded plugin. Wrap it with guardVifPlugin to refuse
 * them before the round trip.
 */
export interface RemoteVifPlugin extends GuardedVifPlugin {
  readonly endpoint: string;
  /** The plug contract the agent implements. */
  readonly plugContractVersion: string;
  /** Close the channel. */
  close(): void;
}

/** The same for a host agent's VolumeConnectorsService. */
export interface RemoteVolumeConnector extends GuardedVolumeConnector {
  readonly endpoint: string;
  readonly plugContractVersion: string;
  close(): void;
}

/**
 * Connect to an agent's VIF plugin: waits for the agent, reads the plugin's name and VIF
 * types (DescribeVifPlugin) and checks the plug contract's major version. An agent serving no
 * VIF plugin answers UNSUPPORTED; one unreachable, BACKEND_UNAVAILABLE.
 */
export async function openRemoteVifPlugin(config: RemotePlugConfig): Promise<RemoteVifPlugin> {
  const client = new PlugClient(config);
  let description: VifPluginDescription;
  try {
    description = await client.open<VifPluginDescription>('describeVifPlugin');
  } catch (error) {
    client.close();
    throw error;
  }
  const vifTypes: readonly VifType[] = Object.freeze([...description.vifTypes]);
  return {
    endpoint: client.endpoint,
    name: description.name,
    vifTypes,
    plugContractVersion: description.plugContractVersion,
    plug: (vif: VifInput, instance: PlugInstance, options?: PlugCallOptions) => client.call('plug', [vif, instance], options) as Promise<PluggedVif>,
    unplug: async (vif: VifInput, instance: PlugInstance, options?: PlugCallOptions) => {
      await client.call('unplug', [vif, instance], options);
    },
    listPlugged: (options?: PlugCallOptions) => client.call('listPlugged', [], options) as Promise<PluggedVif[]>,
    close: () => client.close(),
  };
}

/** Connect to an agent's volume connector (DescribeVolumeConnector, as openRemoteVifPlugin). */
export async function openRemoteVolumeConnector(config: RemotePlugConfig): Promise<RemoteVolumeConnector> {
  const client = new PlugClient(config);
  let description: VolumeConnectorDescription;
  try {
    description = await client.open<VolumeConnectorDescription>('describeVolumeConnector');
  } catch (error) {
    client.close();
    throw error;
  }
  const transports: readonly VolumeTransport[] = Object.freeze([...description.transports]);
  return {
    endpoint: client.endpoint,
    name: description.name,
    transports,
    plugContractVersion: description.plugContractVersion,
    getConnector: (options?: PlugCallOptions) => client.call('getConnector', [], options) as Promise<ConnectorProperties>,
    connect: (volumeId: string, info: ConnectionInfoInput, options?: PlugCallOptions) => client.call('connect', [volumeId, info], options) as Promise<ConnectedVolume>,
    disconnect: async (volumeId: string, info: ConnectionInfoInput, options?: PlugCallOptions) => {
      await client.call('disconnect', [volumeId, info], options);
    },
    extend: (volumeId: string, info: ConnectionInfoInput, options?: PlugCallOptions) => client.call('extend', [volumeId, info], options) as Promise<ConnectedVolume>,
    listConnected: (options?: PlugCallOptions) => client.call('listConnected', [], options) as Promise<ConnectedVolume[]>,
    close: () => client.close(),
  };
}
