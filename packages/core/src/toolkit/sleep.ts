import { DriverError, isDriverError } from '../errors/driver-error.js';

/**
 * Wait `ms`, or reject as soon as `signal` aborts: with the signal's reason when it is a
 * DriverError (the guard aborts with TIMEOUT or CANCELLED), else with CANCELLED.
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Throw the abort's error when `signal` has aborted (a check between two backend calls). */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/** The DriverError an aborted signal stands for. */
export function abortError(signal: AbortSignal): DriverError {
  const reason: unknown = signal.reason;
  if (isDriverError(reason)) return reason;
  return new DriverError('CANCELLED', { cause: reason });
}
