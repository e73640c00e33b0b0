/**
 * What a generated driver depends on. These follow the workspace: a test checks them
 * against the versions of @nova-common/core, @nova-common/conformance and the root toolchain.
 */
export const DEPENDENCY_RANGES = {
  '@nova-common/core': '^1.2.0',
  zod: '^4.6.7',
} as const;

export const DEV_DEPENDENCY_RANGES = {
  '@nova-common/conformance': '^1.1.0',
  '@types/node': '^20.19.0',
  tsup: '~8.5.0',
  typescript: '~5.9.3',
  vitest: '~4.1.12',
} as const;

/** The contract range a generated driver implements. */
export const CONTRACT_RANGE = '^1.2.0';

/** Where the generated CI workflow takes the reusable conformance workflow from, unless --ci-source says otherwise. */
export const DEFAULT_CI_SOURCE = 'nova-common/nova-common@main';
