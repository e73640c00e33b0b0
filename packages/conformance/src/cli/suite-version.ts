import pkg from '../../package.json' with { type: 'json' };

/** The version of @nova-common/conformance, read from its package.json at build time. */
export const SUITE_VERSION: string = pkg.version;
