import type { DriverError } from '@nova-common/core';
import type { StepRecord } from '../result.js';
import { Violation } from './violation.js';

/**
 * A read of the host's description (initHost, getCapabilities) that the guard refused as a
 * contract violation while the session opened: the run cannot plan anything, but it is the
 * driver's fault and is reported as the failure of P-HOST-DESCRIPTION, never as a broken run.
 */
export class HostDescriptionError extends Error {
  override readonly name = 'HostDescriptionError';
  constructor(
    readonly op: 'initHost' | 'getCapabilities',
    override readonly cause: DriverError,
  ) {
    super(`${op} ${cause.code}: ${cause.message}`);
  }

  /** The counterexample's steps: the calls of the opening, the last one failing. */
  steps(): StepRecord[] {
    const failed: StepRecord = { op: this.op, args: [], expected: { ok: true }, actual: { ok: false, error: this.cause.code, message: this.cause.message } };
    return this.op === 'initHost' ? [failed] : [{ op: 'initHost', args: [], expected: { ok: true }, actual: { ok: true } }, failed];
  }

  violation(): Violation {
    return new Violation('P-HOST-DESCRIPTION', 'R-GEN-OUTPUT', `${this.op} returned what the contract does not allow: ${this.cause.message}`, this.op);
  }
}
