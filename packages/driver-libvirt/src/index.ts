// The public surface of @nova-common/driver-libvirt.
export { manifest, DRIVER_NAME, DRIVER_VERSION } from './manifest.js';
export { createLibvirtDriver, LibvirtDriver } from './driver/driver.js';
export type { LibvirtDriverHooks } from './driver/context.js';
export type { PlugObjects } from './driver/plugs.js';
export { LibvirtDriverConfigSchema, type LibvirtDriverConfig, type LibvirtDriverConfigInput } from './config.js';
export { libvirtConformanceFixtures, GUEST_IMAGE_ID, type LibvirtFixtureOptions } from './fixtures/conformance-fixtures.js';
export { libvirtBackendHooks, type LibvirtBackendHooks, type LibvirtBackendHookOptions } from './fixtures/backend-hooks.js';
export { LibvirtClient } from './client/libvirt-client.js';
export { LibvirtConnection, type ConnectionOptions } from './client/connection.js';
export { LibvirtError, ConnectionLostError, CallTimeoutError, CallAbortedError, ProtocolError } from './client/errors.js';
export { buildDomainXml, type DomainEnvironment } from './mapping/domain-xml.js';
export { parseDomainXml } from './mapping/xml-read.js';
export type { InstanceRecord } from './mapping/instance-record.js';
