import { guardVifPlugin, guardVolumeConnector, type GuardedVifPlugin, type GuardedVolumeConnector } from '@nova-common/core/plugs';
import { BridgePortPlugin, type BridgePluginOptions } from './vif/bridge-plugin.js';
import { OvsPlugin, type OvsPluginOptions } from './vif/ovs-plugin.js';
import { FileConnector, type FileConnectorOptions } from './volume/file-connector.js';
import { IscsiConnector, type IscsiConnectorOptions } from './volume/iscsi-connector.js';
import { LoopConnector } from './volume/loop-connector.js';

/** Ports as taps on a Linux bridge, for hypervisors (libvirt `<interface type='ethernet'>`), behind the plug guard. */
export const createLinuxBridgeTapPlugin = (options: BridgePluginOptions = {}): GuardedVifPlugin =>
  guardVifPlugin(new BridgePortPlugin('linux-bridge-tap (a tap on a Linux bridge)', 'tap', options));

/** Ports as veth pairs on a Linux bridge, for containers (the peer goes into the container), behind the plug guard. */
export const createVethPlugin = (options: BridgePluginOptions = {}): GuardedVifPlugin =>
  guardVifPlugin(new BridgePortPlugin('linux-bridge-veth (a veth pair on a Linux bridge)', 'veth', options));

/** Ports as taps on an Open vSwitch bridge, marked in the Interface's external_ids as os-vif does, behind the plug guard. */
export const createOvsPlugin = (options: OvsPluginOptions = {}): GuardedVifPlugin => guardVifPlugin(new OvsPlugin(options));

export const createFileConnector = (options: FileConnectorOptions): GuardedVolumeConnector => guardVolumeConnector(new FileConnector(options));
export const createLoopConnector = (options: FileConnectorOptions): GuardedVolumeConnector => guardVolumeConnector(new LoopConnector(options));

/** iSCSI volumes through QEMU's user-space initiator, each LUN exported as a file over FUSE (no kernel initiator), behind the plug guard. */
export const createIscsiConnector = (options: IscsiConnectorOptions): GuardedVolumeConnector => guardVolumeConnector(new IscsiConnector(options));
