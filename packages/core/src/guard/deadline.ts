import { DriverError } from '../errors/driver-error.js';

/**
 * Deadlines for guarded calls. One shared timer checks every pending call at a coarse
 * tick instead of one setTimeout, one Promise.race and one abort listener per call: those
 * cost a few microseconds each, more than a whole in-memory driver call, and operation
 * timeouts are seconds long, so a tick of TICK_MS is precise enough. The timer runs only
 * while calls are pending; it keeps the process alive meanwhile, so a call to a driver that
 * hangs ends in TIMEOUT rather than in a silent exit.
 */
const TICK_MS = 10;

interface Pending {
  deadline: number;
  timeoutMs: number;
  op: string;
  target: string | undefined;
  controller: AbortController;
  reject: (error: DriverError) => void;
}

const pending = new Set<Pending>();
let timer: ReturnType<typeof setInterval> | undefined;

function tick(): void {
  const now = performance.now();
  for (const p of pending) {
    if (p.deadline <= now) {
      pending.delete(p);
      const err = new DriverError('TIMEOUT', { op: p.op, target: p.target, detail: `no answer within ${p.timeoutMs} ms` });
      p.controller.abort(err);
      p.reject(err);
    }
  }
  if (pending.size === 0 && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
}

function track(p: Pending): void {
  pending.add(p);
  if (timer === undefined) {
    timer = setInterval(tick, TICK_MS);
  }
}

/**
 * Runs `work` with an AbortSignal that fires on the caller's abort or after `timeoutMs`.
 * The returned promise settles as soon as either fires (TIMEOUT or CANCELLED), without
 * waiting for the driver. Whoever serialises calls must wait for the driver's own promise
 * (the one `work` returns), not for this one.
 */
export function withDeadline<T>(
  op: string,
  target: string | undefined,
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (callerSignal?.aborted) {
    return Promise.reject(new DriverError('CANCELLED', { op, target, cause: callerSignal.reason }));
  }
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const entry: Pending = { deadline: performance.now() + timeoutMs, timeoutMs, op, target, controller, reject };
    track(entry);
    let onCallerAbort: (() => void) | undefined;
    if (callerSignal) {
      onCallerAbort = () => {
        pending.delete(entry);
        const err = new DriverError('CANCELLED', { op, target, cause: callerSignal.reason });
        controller.abort(err);
        reject(err);
      };
      callerSignal.addEventListener('abort', onCallerAbort, { once: true });
    }
    const done = (): void => {
      pending.delete(entry);
      if (onCallerAbort) callerSignal?.removeEventListener('abort', onCallerAbort);
    };
    let running: Promise<T>;
    try {
      running = work(controller.signal);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (value) => {
        done();
        resolve(value);
      },
      (error: unknown) => {
        done();
        reject(error as DriverError);
      },
    );
  });
}
