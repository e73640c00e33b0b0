import type { ErrorCode } from '../errors/codes.js';
import type { OperationName } from '../operations/registry.js';
import type { RetryPolicy } from '../toolkit/retry.js';
import type { DriverError } from '../errors/driver-error.js';

/** The guard's retries, off by default: a call is retried in one layer only (see RetryPolicy). */
export interface GuardRetryPolicy extends RetryPolicy {
  /**
   * Codes retried. CONFLICT is safe for every operation (the backend refused before doing
   * anything); BACKEND_UNAVAILABLE only for idempotent operations, since the call may
   * have half-happened.
   */
  codes: ErrorCode[];
}

/**
 * How much of what the driver returns the guard checks against the schemas.
 * `all` (default): every result and event. `sampled`: one result in `outputSampleRate` per
 * operation, and every event (a trusted driver in production). `none`: nothing (benchmarks).
 * Conformance runs always use `all`.
 */
export type OutputValidation = 'all' | 'sampled' | 'none';

export interface GuardOptions {
  /** Per-operation timeout overrides in ms; default OPERATIONS[op].defaultTimeoutMs. */
  timeouts?: Partial<Record<OperationName, number>>;
  /**
   * Refuse operations whose capability is declared missing with UNSUPPORTED, without
   * calling the driver (default true). The conformance suite turns this off to check that
   * the driver itself raises UNSUPPORTED.
   */
  enforceCapabilities?: boolean;
  /** Validate what the driver returns: true is `all`, false is `none` (default `all`). */
  validateOutputs?: boolean | OutputValidation;
  /** With `sampled`: validate one result in this many per operation (default 16). */
  outputSampleRate?: number;
  /** Retries of the guard itself; default none (the backend client retries what is transient). */
  retry?: Partial<GuardRetryPolicy>;
  /**
   * The contract version the driver was built against (the lowest its manifest accepts;
   * loadDriver sets it). Capabilities added later may be absent from its declaration and read
   * as missing. Default: the current CONTRACT_VERSION.
   */
  contractBaseline?: string;
  /** Called when the driver breaks the contract (invalid output or event, disallowed error code). */
  onViolation?: (error: DriverError) => void;
}
