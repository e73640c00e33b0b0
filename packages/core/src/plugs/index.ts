// The plug contracts: the host side of network ports (VIF plugins) and volumes (volume
// connectors), which a compute driver, a network service and a volume service all use.
// Versioned on their own: a plug contract change never changes the compute contract.
export const PLUG_CONTRACT_VERSION = '1.0.0';

export { PlugInstanceSchema, PluggedDeviceKindSchema, PluggedVifSchema, ConnectorPropertiesSchema, ConnectedVolumeSchema } from './schemas.js';
export type { PlugInstance, PluggedVif, ConnectorProperties, ConnectedVolume } from './schemas.js';
export type { VifPlugin, VolumeConnector, GuardedVifPlugin, GuardedVolumeConnector, PlugCallOptions } from './interfaces.js';
export type { VifType, VolumeTransport, ConnectionInfoInput } from './types.js';
export {
  VIF_PLUG_SEMANTICS,
  VOLUME_CONNECT_SEMANTICS,
  type PlugCell,
  type VifPlugState,
  type VolumeConnectState,
  type VifPlugOperation,
  type VolumeConnectOperation,
} from './table.js';
export { guardVifPlugin, guardVolumeConnector } from './guard.js';
export { loadPlug, PlugLoadError } from './load-plug.js';
export { PlugSpecSchema, loadDriverPlugs, plugAll, unplugAll, connectAll, disconnectAll, type DriverPlugs, type PlugSpec, type VolumeToConnect } from './wiring.js';
