import { DriverError } from '../errors/driver-error.js';

/**
 * Runs `work` with an AbortSignal that fires on the caller's abort or after `timeoutMs`.
 * The returned promise settles as soon as either fires (TIMEOUT or CANCELLED), without
 * waiting for the driver; `settled` resolves only once the driver's own promise has
 * settled, so callers that serialise per instance keep the instance locked until then.
 */
export function withDeadline<T>(
  op: string,
  target: string | undefined,
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
  work: (signal: AbortSignal) => Promise<T>,
): { result: Promise<T>; settled: Promise<unknown> } {
  if (callerSignal?.aborted) {
    const err = new DriverError('CANCELLED', { op, target, cause: callerSignal.reason });
    return { result: Promise.reject(err), settled: Promise.resolve() };
  }
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onCallerAbort: (() => void) | undefined;
  const interrupted = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new DriverError('TIMEOUT', { op, target, detail: `no answer within ${timeoutMs} ms` });
      controller.abort(err);
      reject(err);
    }, timeoutMs);
    if (callerSignal) {
      onCallerAbort = () => {
        const err = new DriverError('CANCELLED', { op, target, cause: callerSignal.reason });
        controller.abort(err);
        reject(err);
      };
      callerSignal.addEventListener('abort', onCallerAbort, { once: true });
    }
  });
  let running: Promise<T>;
  try {
    running = work(controller.signal);
  } catch (error) {
    running = Promise.reject(error);
  }
  const cleanup = (): void => {
    clearTimeout(timer);
    if (onCallerAbort) callerSignal?.removeEventListener('abort', onCallerAbort);
  };
  const settled = running.then(cleanup, cleanup);
  // The loser of the race must not surface as an unhandled rejection.
  interrupted.catch(() => {});
  return { result: Promise.race([running, interrupted]), settled };
}
