/**
 * The contract version, semver. Major: a breaking change to the interface, the schemas,
 * the error codes or the semantics table. Minor: an addition (a new optional operation,
 * capability, error code or optional field). Patch: clarifications only.
 */
export const CONTRACT_VERSION = '1.2.0';
