import { DriverError, OPERATION_NAMES, type ComputeDriver, type OperationName } from '@nova-common/core';

export type FaultKind = 'BACKEND_UNAVAILABLE' | 'TIMEOUT' | 'hang';

/**
 * One scheduled fault: the `nth` call (1-based, counted per operation; every call when
 * absent) of `op` fails with `fault`, `before` the driver runs (default; the driver is not
 * called) or `after` it returned (the work is done but the caller sees a failure). `hang`
 * never answers: the call waits until its AbortSignal fires (the guard's timeout), then
 * rejects with the signal's reason.
 */
export interface FaultRule {
  op: OperationName;
  nth?: number;
  when?: 'before' | 'after';
  fault: FaultKind;
}

export interface InjectedFault {
  op: OperationName;
  nth: number;
  when: 'before' | 'after';
  fault: FaultKind;
}

/** A driver with faults injected at chosen calls; `injected` lists the faults that fired. */
export type FaultyDriver = ComputeDriver & {
  readonly injected: readonly InjectedFault[];
  /** Calls seen per operation. */
  readonly calls: ReadonlyMap<OperationName, number>;
  /**
   * Resolves once no call into the wrapped driver is running. A guard's timeout answers the
   * caller before the driver has finished (or cleaned up after its abort); observe the
   * backend only after this.
   */
  settled(): Promise<void>;
};

function signalOf(args: unknown[]): AbortSignal | undefined {
  for (let i = args.length - 1; i >= 0; i--) {
    const a = args[i] as { signal?: unknown } | undefined;
    if (a && typeof a === 'object' && a.signal instanceof AbortSignal) return a.signal;
  }
  return undefined;
}

function fire(op: OperationName, fault: FaultKind, signal: AbortSignal | undefined): Promise<never> {
  if (fault !== 'hang') {
    return Promise.reject(new DriverError(fault, { op, detail: 'injected by faulty()' }));
  }
  return new Promise<never>((_, reject) => {
    const stop = (): void => reject(signal?.reason instanceof Error ? signal.reason : new DriverError('CANCELLED', { op, detail: 'hang injected by faulty() was aborted' }));
    if (!signal) return; // No signal: it hangs for good, as a dead backend would.
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
}

/**
 * Wrap a raw driver so chosen calls fail (BACKEND_UNAVAILABLE, TIMEOUT) or hang. Operations
 * the driver does not implement stay absent, so UNSUPPORTED behaviour is unchanged. Used by
 * the suite to check that a failed spawn leaves nothing behind and that errors surface with
 * the right code; also usable in a driver's own tests.
 */
export function faulty(driver: ComputeDriver, schedule: readonly FaultRule[]): FaultyDriver {
  const injected: InjectedFault[] = [];
  const calls = new Map<OperationName, number>();
  const wrapper: Record<string, unknown> = {};
  let running = 0;
  let waiters: (() => void)[] = [];
  const track = async <T>(work: () => Promise<T>): Promise<T> => {
    running++;
    try {
      return await work();
    } finally {
      running--;
      if (running === 0) {
        const ready = waiters;
        waiters = [];
        for (const w of ready) w();
      }
    }
  };
  for (const op of OPERATION_NAMES) {
    const fn = (driver as unknown as Record<string, unknown>)[op];
    if (typeof fn !== 'function') continue;
    wrapper[op] = async (...args: unknown[]): Promise<unknown> => {
      const n = (calls.get(op) ?? 0) + 1;
      calls.set(op, n);
      const rule = schedule.find((r) => r.op === op && (r.nth === undefined || r.nth === n));
      if (!rule) return track(async () => (fn as (...a: unknown[]) => unknown).apply(driver, args));
      const when = rule.when ?? 'before';
      if (when === 'after') await track(async () => (fn as (...a: unknown[]) => unknown).apply(driver, args));
      injected.push({ op, nth: n, when, fault: rule.fault });
      return fire(op, rule.fault, signalOf(args));
    };
  }
  if (typeof driver.subscribeEvents === 'function') wrapper.subscribeEvents = driver.subscribeEvents.bind(driver);
  Object.defineProperty(wrapper, 'injected', { value: injected, enumerable: false });
  Object.defineProperty(wrapper, 'calls', { value: calls, enumerable: false });
  Object.defineProperty(wrapper, 'settled', {
    value: (): Promise<void> => (running === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
    enumerable: false,
  });
  return wrapper as unknown as FaultyDriver;
}
