/**
 * The contract's error taxonomy. Codes are stable: new ones are appended, none is ever
 * renumbered or removed. `retryable` says whether the same call may succeed if repeated
 * unchanged later; `recovery` is what a caller should do.
 */
export const ERROR_CODES = {
  INSTANCE_NOT_FOUND: { number: 1, retryable: false, since: '1.0.0', recovery: 'The instance does not exist on this driver; treat it as gone.' },
  INSTANCE_EXISTS: { number: 2, retryable: false, since: '1.0.0', recovery: 'An instance with this uuid already exists; use a new uuid or destroy the old one.' },
  INVALID_STATE: { number: 3, retryable: false, since: '1.0.0', recovery: 'Bring the instance into a state the operation accepts (see the semantics table), then retry.' },
  UNSUPPORTED: { number: 4, retryable: false, since: '1.0.0', recovery: 'The driver declares this capability missing; do not call it.' },
  INVALID_INPUT: { number: 5, retryable: false, since: '1.0.0', recovery: 'Fix the field named in `issues` and call again.' },
  CONFLICT: { number: 6, retryable: true, since: '1.0.0', recovery: 'The target is busy or locked by someone else; retry with backoff.' },
  BACKEND_UNAVAILABLE: { number: 7, retryable: true, since: '1.0.0', recovery: 'The backend could not be reached; retry with backoff once it is back.' },
  TIMEOUT: { number: 8, retryable: true, since: '1.0.0', recovery: 'The outcome is unknown; read the state with getInfo before retrying a non-idempotent call.' },
  INTERNAL: { number: 9, retryable: false, since: '1.0.0', recovery: 'A driver bug or an unexpected backend answer; see `cause` and report it.' },
  CANCELLED: { number: 10, retryable: true, since: '1.0.0', recovery: 'The caller aborted the call; read the state with getInfo before retrying.' },
  NODE_NOT_FOUND: { number: 11, retryable: false, since: '1.0.0', recovery: 'The node does not exist on this host; pick one from listNodes.' },
  NODE_UNAVAILABLE: { number: 12, retryable: false, since: '1.0.0', recovery: 'The node is in maintenance, in use or being cleaned; pick another node.' },
  INSUFFICIENT_RESOURCES: { number: 13, retryable: false, since: '1.0.0', recovery: 'No node has room for this flavor; free capacity or pick another host.' },
  VOLUME_ALREADY_ATTACHED: { number: 14, retryable: false, since: '1.0.0', recovery: 'The volume is already attached to this instance.' },
  VOLUME_NOT_ATTACHED: { number: 15, retryable: false, since: '1.0.0', recovery: 'The volume is not attached to this instance.' },
  INTERFACE_ALREADY_ATTACHED: { number: 16, retryable: false, since: '1.0.0', recovery: 'An interface with this id is already attached to this instance.' },
  INTERFACE_NOT_ATTACHED: { number: 17, retryable: false, since: '1.0.0', recovery: 'No interface with this id is attached to this instance.' },
} as const satisfies Record<string, { number: number; retryable: boolean; since: string; recovery: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}
