// The public surface of @nova-common/core. Named exports only; nothing from internal/.

export { CONTRACT_VERSION } from './version.js';

// Data
export * from './schemas/index.js';

// Errors
export { ERROR_CODES, ERROR_CODE_LIST, isErrorCode, type ErrorCode } from './errors/codes.js';
export { DriverError, isDriverError, toDriverError, errors, type DriverErrorOptions, type InputIssue } from './errors/driver-error.js';

// Capabilities and profiles
export {
  CAPABILITY_CATALOG,
  CAPABILITY_IDS,
  PROFILE_IDS,
  MANDATORY_CAPABILITIES,
  capabilitiesOfProfile,
  isCapabilityId,
  capabilitiesKnownAt,
  compareVersions,
  type CapabilityId,
  type ProfileId,
} from './capabilities/catalog.js';
export {
  CapabilityIdSchema,
  ProfileIdSchema,
  SupportLevelSchema,
  CapabilityDeclarationSchema,
  EventualConsistencySchema,
  VolumeTransportSchema,
  DriverCapabilitiesSchema,
  supports,
  supportedProfiles,
  declareCapabilities,
  type SupportLevel,
  type CapabilityDeclaration,
  type EventualConsistency,
  type DriverCapabilities,
} from './capabilities/driver-capabilities.js';
export { checkCapabilities } from './capabilities/check-capabilities.js';

// Operations and the driver interface
export {
  OPERATIONS,
  OPERATION_NAMES,
  COMMON_ERRORS,
  isAllowedError,
  operationOfColumn,
  columnOfCall,
  capabilitiesOfCall,
  capabilityOfColumn,
  NO_COLUMN_CAPABILITIES,
  instanceArgIndex,
  operationsOfCapability,
  isPeerOperation,
  type OperationName,
  type OperationDescriptor,
  type ArgumentDescriptor,
  type ParsedArgs,
  type ArgInputs,
  type OptionsOf,
  type ResultOf,
} from './operations/registry.js';
export type { ComputeDriver, CallOptions, PowerOffOptions, LifecycleListener, Unsubscribe } from './driver/compute-driver.js';
export {
  defineDriver,
  PackageDriverFieldSchema,
  type DriverManifest,
  type PackageDriverField,
  type ConformanceFixtures,
  type BackendHooks,
  type BackendWitness,
  type WitnessMachine,
} from './driver/manifest.js';

// Semantics
export { SEMANTIC_STATES, TABLE_OPERATIONS, powerStateOf, type SemanticState, type TableOperation } from './semantics/states.js';
export { SEMANTICS, SEMANTICS_1_0, CELL_CHANGES, semanticsFor, EXISTING_STATES, type Cell, type SemanticsTable, type ExistingState } from './semantics/table.js';
export { tableInForce, runUnderTable } from './semantics/table-in-force.js';
export { expectedOutcome, expectedUsage, requiredTraits, eventKindsFor, type Outcome, type OutcomeContext } from './semantics/oracle.js';
export { RULES, cellRuleId, isRuleId, type RuleId, type GeneralRuleId, type CellRuleId } from './semantics/rules.js';
export {
  MIGRATION_SEMANTICS,
  MIGRATION_RULES,
  MIGRATION_KINDS,
  migrationCell,
  isMigrationRuleId,
  type MigrationCell,
  type MigrationRuleId,
  type MigrationGeneralRuleId,
} from './migration/semantics.js';

// Driver toolkit (not part of the contract: helpers drivers may use)
export {
  KeyedQueue,
  issuesFromZod,
  parseOrInvalid,
  enforceCell,
  unfitReason,
  fitsNode,
  assertFits,
  hasTraits,
  abortableSleep,
  throwIfAborted,
  abortError,
  ListenerSet,
  withRetry,
  backoffDelay,
  currentHolder,
  holderIsGone,
  type CellDecision,
  type RetryPolicy,
} from './toolkit/index.js';

// The wall and the loader
export { guard } from './guard/guard.js';
export type { GuardedDriver, GuardedOperations, GuardedParameters } from './guard/guarded-driver.js';
export type { GuardOptions, GuardRetryPolicy, OutputValidation } from './guard/options.js';
export {
  loadDriver,
  DriverLoadError,
  type DriverLoadErrorCode,
  type DriverLoadErrorDetails,
  type LoadedDriver,
  type LoadDriverOptions,
} from './loader/load-driver.js';
