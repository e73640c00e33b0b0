/** The version of this suite (the package version); reports carry it next to the contract version. */
export const SUITE_VERSION = '1.1.0';
