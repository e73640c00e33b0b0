// Host-side plugs behind the plug contracts of @nova-common/core/plugs.
export { BridgePortPlugin, type BridgePluginOptions } from './vif/bridge-plugin.js';
export { OvsPlugin, OVS_OWNER_KEY, type OvsPluginOptions } from './vif/ovs-plugin.js';
export { FileConnector, type FileConnectorOptions } from './volume/file-connector.js';
export { LoopConnector } from './volume/loop-connector.js';
export { IscsiConnector, type IscsiConnectorOptions } from './volume/iscsi-connector.js';
export { createLinuxBridgeTapPlugin, createVethPlugin, createOvsPlugin, createFileConnector, createLoopConnector, createIscsiConnector } from './factories.js';
