import { abortableSleep } from './sleep.js';

/**
 * The one retry policy of a call path. A call is retried in exactly one layer: the backend
 * client that knows which of its backend's answers are transient (a locked node, a busy
 * daemon). The guard retries nothing unless its consumer asks for it.
 */
export interface RetryPolicy {
  /** Extra attempts after the first (0 disables retries). */
  attempts: number;
  /** First delay; doubles each attempt, with full jitter. */
  baseDelayMs: number;
  /** Upper bound of one delay. */
  maxDelayMs: number;
}

/** The delay before retry number `n` (0-based): full jitter over an exponential cap. */
export function backoffDelay(policy: RetryPolicy, n: number, random: () => number = Math.random): number {
  return random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** n);
}

/**
 * Run `attempt` until it succeeds, `isTransient` says its error is final, the attempts run
 * out, or `signal` aborts (the wait between attempts then rejects with the abort's error).
 * `attempt` receives the 0-based attempt number.
 */
export async function withRetry<T>(
  attempt: (n: number) => Promise<T>,
  policy: RetryPolicy,
  isTransient: (error: unknown) => boolean,
  signal?: AbortSignal,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= policy.attempts || !isTransient(error)) throw error;
      await abortableSleep(backoffDelay(policy, n), signal);
    }
  }
}
