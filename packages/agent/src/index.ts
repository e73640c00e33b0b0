// The public surface of @nova-common/agent. Named exports only.

export { AGENT_VERSION } from './version.js';

// Serving a driver
export { startAgent, checkListeners, COMPUTE_SERVICE_NAME, VIF_PLUGS_SERVICE_NAME, VOLUME_CONNECTORS_SERVICE_NAME, type Agent } from './server/agent.js';
export type { AgentOptions, TlsFiles } from './server/options.js';
export { serveDriver, type ServeDriverOptions, type ServedDriver } from './server/serve-driver.js';
export { parseListenAddress, parseRoleListener, isLoopback, ListenError, type ListenAddress, type ListenerSpec } from './server/listen-address.js';
export { ROLES, ROLE_URI_PREFIX, permits, rolesOfCertificate, type Role, type RpcName } from './server/roles.js';
export { EVENT_POSITION_KEY } from './server/event-log.js';
export { createLogger } from './server/logger.js';
export { protoDirectory, COMPUTE_PROTO, ERRORS_PROTO, PLUGS_PROTO } from './server/reflection.js';
export { loadPlug, PlugLoadError } from '@nova-common/core/plugs';

// Calling one
export { createRemoteDriver, type RemoteDriver, type RemoteDriverOptions } from './client/remote-driver.js';
export { RemoteDriverConfigSchema, type RemoteDriverConfig, type ResolvedRemoteDriverConfig } from './client/config.js';
export type { EventsLost } from './client/event-stream.js';
export { remoteManifest } from './client/manifest.js';
export { openRemoteVifPlugin, openRemoteVolumeConnector, type RemoteVifPlugin, type RemoteVolumeConnector } from './client/remote-plugs.js';
export { RemotePlugConfigSchema, type RemotePlugConfig, type ResolvedRemotePlugConfig } from './client/plug-client.js';

// The wire, for callers that speak it themselves
export { GRPC_STATUS_OF } from './mapping/errors.js';
export { ComputeService } from './gen/nova_common/compute/v1/compute_pb.js';
export { VifPlugsService, VolumeConnectorsService } from './gen/nova_common/compute/v1/plugs_pb.js';
export { serviceDefinition, methodPath } from './grpc/service-definition.js';
