import { DriverError } from '../errors/driver-error.js';

/**
 * Deadlines for guarded calls. One shared timer checks every pending call at a coarse
 * tick instead of one setTimeout, one Promise.race and one abort listener per call: those
 * cost a few microseconds each, more than a whole in-memory driver call, and operation
 * timeouts are seconds long, so a tick of TICK_MS is precise enough. The timer runs only
 * while calls are pending; it keeps the process alive meanwhile, so a call to a driver that
 * hangs ends in TIMEOUT rather than in a silent exit.
 *
 * The AbortSignal a driver receives is made when the driver first reads it: a driver that
 * never looks at its signal (an in-memory one) costs no AbortController per call, and one
 * that reads it after the deadline finds it already aborted with TIMEOUT.
 */
const TICK_MS = 10;

/** The per-call state: the lazily made controller and how the call ends early. */
export class CallContext {
  private controller: AbortController | undefined;
  deadline = 0;
  timeoutMs = 0;
  op = '';
  target: string | undefined;
  reject: ((error: DriverError) => void) | undefined;

  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  abort(error: DriverError): void {
    (this.controller ??= new AbortController()).abort(error);
    this.reject?.(error);
  }
}

const pending = new Set<CallContext>();
let timer: ReturnType<typeof setInterval> | undefined;

function tick(): void {
  const now = performance.now();
  for (const p of pending) {
    if (p.deadline <= now) {
      pending.delete(p);
      p.abort(new DriverError('TIMEOUT', { op: p.op, target: p.target, detail: `no answer within ${p.timeoutMs} ms` }));
    }
  }
  if (pending.size === 0 && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
}

function track(p: CallContext): void {
  pending.add(p);
  if (timer === undefined) timer = setInterval(tick, TICK_MS);
}

/**
 * Runs `work` with a context whose signal fires on the caller's abort or after `timeoutMs`.
 * The returned promise settles as soon as either fires (TIMEOUT or CANCELLED), without
 * waiting for the driver. Whoever serialises calls must wait for the driver's own promise
 * (the one `work` returns), not for this one.
 */
export function withDeadline<T>(
  op: string,
  target: string | undefined,
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
  work: (context: CallContext) => Promise<T>,
): Promise<T> {
  if (callerSignal?.aborted) {
    return Promise.reject(new DriverError('CANCELLED', { op, target, cause: callerSignal.reason }));
  }
  const context = new CallContext();
  context.op = op;
  context.target = target;
  context.timeoutMs = timeoutMs;
  context.deadline = performance.now() + timeoutMs;
  return new Promise<T>((resolve, reject) => {
    context.reject = reject;
    track(context);
    let onCallerAbort: (() => void) | undefined;
    if (callerSignal) {
      onCallerAbort = () => {
        pending.delete(context);
        context.abort(new DriverError('CANCELLED', { op, target, cause: callerSignal.reason }));
      };
      callerSignal.addEventListener('abort', onCallerAbort, { once: true });
    }
    const done = (): void => {
      pending.delete(context);
      if (onCallerAbort) callerSignal?.removeEventListener('abort', onCallerAbort);
    };
    let running: Promise<T>;
    try {
      running = work(context);
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
