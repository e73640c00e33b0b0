export { scaffold, type ScaffoldOptions, type ScaffoldResult } from './scaffold.js';
export { ScaffoldError, type ScaffoldErrorCode } from './errors.js';
export { checkPackageName, checkDescription, parseCiSource, type CiSource } from './names.js';
export { CONTRACT_RANGE, DEFAULT_CI_SOURCE, DEPENDENCY_RANGES, DEV_DEPENDENCY_RANGES } from './versions.js';
