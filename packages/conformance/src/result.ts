import type { CapabilityId, ErrorCode, ProfileId, RuleId, SupportLevel } from '@nova-common/core';
import type { PropertyId } from './properties/catalog.js';

/**
 * The result of one conformance run against one driver: the single input of every
 * reporter (JSON, JUnit, Markdown, HTML). Its JSON form is published as a JSON Schema.
 */

/** Status of a capability in the support matrix, computed from evidence. */
export type MatrixStatus =
  /** Declared supported and every property that exercises it passed. */
  | 'complete'
  /** Declared partial, or declared supported but some of its properties failed. */
  | 'partial'
  /** Declared missing and verified: the operation raised UNSUPPORTED and changed nothing. */
  | 'missing'
  /** Not run (profile filtered out, or declared missing without verification). */
  | 'unknown';

export interface CapabilityResult {
  id: CapabilityId;
  declared: SupportLevel;
  status: MatrixStatus;
  /** Property ids whose runs exercised this capability. */
  evidence: PropertyId[];
  notes?: string;
}

/** One step of a (shrunk) counterexample: an operation call with its arguments. */
export interface StepRecord {
  op: string;
  args: unknown[];
  /** What the model expected: a state / result, or an error code. */
  expected?: { ok: true; detail?: unknown } | { ok: false; error: ErrorCode };
  /** What the driver did. */
  actual?: { ok: true; detail?: unknown } | { ok: false; error: string; message?: string };
}

export interface Counterexample {
  seed: number;
  /** fast-check's replay path. */
  path: string;
  /** The shrunk minimal command sequence. */
  steps: StepRecord[];
  /** The same sequence as a runnable TypeScript program. */
  program: string;
  /** Where the replay file was written, when it was (RunOptions.replayDir). */
  replayFile?: string;
  /**
   * The shrunk sequence as data: write it as JSON and `nova-conformance run --replay <file>`
   * (or runReplay) re-runs exactly these calls against any driver. Absent for properties
   * that are not call sequences.
   */
  replay?: ReplayDocument;
  /** The rule id violated and the message. */
  rule?: RuleId;
  message: string;
}

/**
 * A replay file's content: the calls of a shrunk counterexample, in order. Each call is
 * `{ op, ...arguments }`, every argument under the name the operation registry gives it, with
 * fully resolved values (see Call in commands/call.ts); an image argument may be
 * `{ produced: n }`, the n-th snapshot taken by the sequence. Ids are plain strings here: a
 * file may come from another version of the suite.
 */
export interface ReplayDocument {
  format: 'nova-conformance-replay';
  version: 1;
  suiteVersion: string;
  contractVersion: string;
  property: string;
  rule?: string;
  message: string;
  seed: number;
  path: string;
  /** The run id the calls carry in names and metadata; a replay reuses it. */
  runId: string;
  driver?: { name?: string; module?: string; exportName?: string; config?: unknown };
  calls: Record<string, unknown>[];
}

export interface PropertyResult {
  /** Stable id, e.g. `P-MODEL-SEQUENCES` or `P-UNSUPPORTED-operation.pause`. */
  id: PropertyId;
  title: string;
  /** The contract version this property was introduced in. */
  since: string;
  /** Rules (core RULES / SEMANTICS rule ids) this property checks. */
  rules: RuleId[];
  capabilities: CapabilityId[];
  status: 'passed' | 'failed' | 'skipped';
  /** Why skipped, when skipped (capability not declared, profile filtered). */
  reason?: string;
  runs: number;
  steps: number;
  durationMs: number;
  counterexample?: Counterexample;
}

/**
 * How much of the semantics table a run exercised (src/coverage): the cells (state row x
 * operation column) it could reach for the driver's declared capabilities and the fixtures'
 * simulation hooks, those its table walk and sequences called, and the error paths it checked.
 */
export interface CoverageResult {
  /** Reachable cells called at least once. */
  cellsReached: number;
  /** Cells reachable for the declared capabilities, the profile filter, the run's devices and hooks. */
  cellsReachable: number;
  /** Reachable cells never called, as `{ state, column }`. */
  missing: { state: string; column: string }[];
  /** Per operation: each error code the model expected of it (and the suite checked), with how many calls. */
  errorPaths: Record<string, Record<string, number>>;
  /** Sequences run by steering rounds after the configured ones. */
  steeredRuns: number;
  /** The steering budget, as `5000 steps` or `60s`. */
  budget: string;
}

export interface RunResult {
  suiteVersion: string;
  contractVersion: string;
  driver: { name: string; version: string; description?: string; label?: string; config?: unknown };
  environment: { node: string; platform: string; arch: string; hostname: string; ci: boolean };
  startedAt: string;
  durationMs: number;
  seed: number;
  runId: string;
  options: { runs: number; steps: number; profiles: ProfileId[] | 'all'; maxInstances: number };
  profiles: { id: ProfileId; supported: boolean }[];
  capabilities: CapabilityResult[];
  properties: PropertyResult[];
  summary: { passed: number; failed: number; skipped: number };
  /**
   * Work done: model steps (calls judged against the model), every driver call (including
   * observations), and the time spent in the model sequences. Optional for older reports.
   */
  stats?: { steps: number; calls: number; modelMs: number };
  /** Cells of the semantics table and error paths reached; absent when no model sequence ran (and in older reports). */
  coverage?: CoverageResult;
}

/** Differential mode: the first step where two drivers' observable outcomes differ. */
export interface Divergence {
  seed: number;
  stepIndex: number;
  step: StepRecord;
  /** Per driver name: `{ result: 'ok' | <error code>, info: <normalised getInfo> | <error code> }`. */
  outcomes: Record<string, unknown>;
  program: string;
  /** fast-check's replay path (with `seed`). */
  path?: string;
  /** The shrunk sequence up to and including the diverging step. */
  steps?: StepRecord[];
}

export interface DifferentialResult {
  drivers: string[];
  runs: number;
  steps: number;
  seed: number;
  durationMs: number;
  divergence?: Divergence;
}
