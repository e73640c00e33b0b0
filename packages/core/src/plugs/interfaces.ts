import type { ConnectionInfo } from '../schemas/block-device-info.js';
import type { Vif, VifInput } from '../schemas/network-info.js';
import type { ConnectionInfoInput, VolumeTransport, VifType } from './types.js';
import type { ConnectedVolume, ConnectorProperties, PlugInstance, PluggedVif } from './schemas.js';

/** Options every plug call takes: the caller's cancellation. */
export interface PlugCallOptions {
  signal?: AbortSignal;
}

/**
 * The host side of a network port (os-vif's role). The network service creates and binds the
 * port before spawn; the compute driver (or the network service itself, through the agent)
 * asks the plugin to plug it and wires the device it returns into the guest. The plugin never
 * calls a network service.
 *
 * Every call is idempotent (see PLUG_SEMANTICS): plugging a plugged VIF returns the same
 * device; unplugging an unplugged one succeeds. A failed plug leaves nothing behind. A plugin
 * never touches a device it did not create.
 */
export interface VifPlugin {
  /** One line on what it plugs, e.g. `linux-bridge (tap on a Linux bridge)`. */
  readonly name: string;
  /** The VIF types it wires; any other is refused as INVALID_INPUT naming `vif.type`. */
  readonly vifTypes: readonly VifType[];
  plug(vif: Vif, instance: PlugInstance, options?: PlugCallOptions): Promise<PluggedVif>;
  unplug(vif: Vif, instance: PlugInstance, options?: PlugCallOptions): Promise<void>;
  /** Every VIF this plugin has plugged on the host and not unplugged. */
  listPlugged(options?: PlugCallOptions): Promise<PluggedVif[]>;
}

/**
 * The host side of a volume (os-brick's role): the connector properties a volume service needs
 * to export a volume to this host, and the host steps that turn a connection info into a
 * device or file the compute driver gives the guest. Calls on one volume are serialised;
 * connect and disconnect are idempotent; a failed connect leaves nothing connected.
 */
export interface VolumeConnector {
  readonly name: string;
  /** The transports it connects; any other is refused as INVALID_INPUT naming `connectionInfo.driverVolumeType`. */
  readonly transports: readonly VolumeTransport[];
  getConnector(options?: PlugCallOptions): Promise<ConnectorProperties>;
  connect(volumeId: string, connectionInfo: ConnectionInfo, options?: PlugCallOptions): Promise<ConnectedVolume>;
  disconnect(volumeId: string, connectionInfo: ConnectionInfo, options?: PlugCallOptions): Promise<void>;
  /** Make the host see the volume's new size (after the volume service grew it); answers the size it now sees. */
  extend(volumeId: string, connectionInfo: ConnectionInfo, options?: PlugCallOptions): Promise<ConnectedVolume>;
  /** Every volume this connector has connected on the host and not disconnected. */
  listConnected(options?: PlugCallOptions): Promise<ConnectedVolume[]>;
}

/** The same interfaces as a caller sees them through the plug guard: raw inputs, parsed on the way in. */
export interface GuardedVifPlugin extends Omit<VifPlugin, 'plug' | 'unplug'> {
  plug(vif: VifInput, instance: PlugInstance, options?: PlugCallOptions): Promise<PluggedVif>;
  unplug(vif: VifInput, instance: PlugInstance, options?: PlugCallOptions): Promise<void>;
}
export interface GuardedVolumeConnector extends Omit<VolumeConnector, 'connect' | 'disconnect' | 'extend'> {
  connect(volumeId: string, connectionInfo: ConnectionInfoInput, options?: PlugCallOptions): Promise<ConnectedVolume>;
  disconnect(volumeId: string, connectionInfo: ConnectionInfoInput, options?: PlugCallOptions): Promise<void>;
  extend(volumeId: string, connectionInfo: ConnectionInfoInput, options?: PlugCallOptions): Promise<ConnectedVolume>;
}
