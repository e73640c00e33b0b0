// The driver toolkit: helpers every driver needs and no driver should write again. Not part of
// the contract (drivers may use them or not); exported from `@nova-common/core` and
// `@nova-common/core/toolkit`.
export { KeyedQueue } from './keyed-queue.js';
export { issuesFromZod, parseOrInvalid } from './issues.js';
export { enforceCell, type CellDecision } from './enforce-cell.js';
export { unfitReason, fitsNode, assertFits, hasTraits } from './placement.js';
export { abortableSleep, throwIfAborted, abortError } from './sleep.js';
export { ListenerSet } from './listener-set.js';
export { withRetry, backoffDelay, type RetryPolicy } from './retry.js';
export { currentHolder, holderIsGone } from './process-holder.js';
