// The public surface of @nova-common/conformance.
export { runConformance, planProperties, computeMatrix, type PlannedProperty } from './run/run-conformance.js';
export { runDifferential, type DifferentialOptions } from './differential/run-differential.js';
export { faulty, type FaultRule, type FaultKind, type FaultyDriver, type InjectedFault } from './faults/faulty.js';
export { sweep, type SweepResult } from './run/sweep.js';
export { runKillMatrix, type KillMatrixOptions, type KillCell } from './faults/kill-matrix/run.js';
export { renderKillMatrix } from './faults/kill-matrix/render.js';
export { runMigrationSuite, renderMigrationResults, type MigrationSuiteOptions, type MigrationPropertyResult } from './migration/run.js';
export { doubledMemory, whereIs, type MigrationHosts } from './migration/hosts.js';
export { referenceMigrationHosts } from './migration/reference-hosts.js';
export { runMigrationDifferential, renderMigrationDifferential, type MigrationDifferentialOptions, type MigrationDifferentialResult } from './migration/differential/run.js';
export type { PairOutcome } from './migration/differential/observe.js';
export type { KillOperation } from './faults/kill-matrix/operations.js';
export { runReplay, readReplayFile, writeReplayFile, parseReplayDocument, type ReplayResult } from './replay/replay.js';
export { renderProgram } from './replay/program.js';
export { allProperties, propertyDefinition, MIGRATION_PROPERTY_IDS, type PropertyDefinition, type PropertyId, type MigrationPropertyId } from './properties/catalog.js';
export {
  resolveOptions,
  newRunId,
  RUN_ID_KEY,
  DEFAULT_RUNS,
  DEFAULT_STEPS,
  DEFAULT_MAX_INSTANCES,
  type ConformanceOptions,
  type RunOptions,
  type DriverFactory,
  type MigrationPeer,
  type DriverIdentity,
  type SimulationHooks,
  type ProgressEvent,
} from './config.js';
export { parseBudget, type Budget } from './coverage/budget.js';
export type { Call } from './commands/call.js';
export { SUITE_VERSION } from './version.js';
export type {
  RunResult,
  PropertyResult,
  CapabilityResult,
  Counterexample,
  StepRecord,
  MatrixStatus,
  Divergence,
  DifferentialResult,
  ReplayDocument,
  CoverageResult,
} from './result.js';

// Reporters (JSON with its schema, JUnit, support matrix as Markdown / HTML / text).
export * from './report/index.js';

// The plug suite (VIF plugins and volume connectors).
export * from './plugs/index.js';
