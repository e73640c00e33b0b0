// `@nova-common/core/testing`: the in-memory reference driver, for the conformance suite
// and for users' own tests (like libvirt's test driver).
export * from './reference/index.js';
