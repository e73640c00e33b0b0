import { DriverError, isDriverError, OPERATION_NAMES, OPERATIONS, type ComputeDriver, type OperationName } from '@nova-common/core';

/** How much longer than its slowest answer a hung operation's later calls may take. */
const SLOWEST_ANSWER_FACTOR = 4;
/** A call aborted this close to its full timeout (as a fraction) ran out its time. */
const FULL_TIMEOUT_SHARE = 0.9;

interface HungOperation {
  /** The timeout the first hang ran out. */
  fullMs: number;
}

/**
 * What a run learns of its driver's hangs, shared by the sessions of one run.
 *
 * A call that never answers is caught only by the guard's timeout (30 s for most operations,
 * 10 minutes for spawn), and the guard keeps the call's instance locked until the driver's
 * promise settles: a driver that hangs and ignores its signal held the instance for good,
 * so every later call on it waited out its own full timeout, and each shrink candidate and
 * each property that used the operation hung again. One hang turned the default run from a
 * second into many minutes. The breaker bounds that:
 * - a call that ran out its full timeout and does not let go within the cancel grace
 *   (R-CANCEL) is let go by the breaker, which unlocks its instance;
 * - once an operation has run out its full timeout, its later calls get a short one:
 *   SLOWEST_ANSWER_FACTOR times the slowest answer it gave in the run, at least
 *   `hangTimeoutMs`, and are let go at once when it expires.
 * The first hang still costs its full timeout (the suite cannot tell a slow backend from a
 * dead one before that); the property that met it has failed by then, and the later TIMEOUTs
 * say in their message that their time was shortened, and why: read the first failure first.
 *
 * The breaker sits between the guard and the raw driver, so it sees only the driver's own
 * calls: the fault properties' injected hangs (wrapped outside it, with their own short
 * timeout) never teach it anything.
 */
export class HangBreaker {
  private readonly hung = new Map<OperationName, HungOperation>();
  private readonly slowest = new Map<OperationName, number>();
  /** Calls that ran out their full timeout, per operation. */
  readonly fullHangs = new Map<OperationName, number>();
  /** Calls the breaker cut at a shortened timeout, per operation. */
  readonly shortened = new Map<OperationName, number>();
  /** The driver's calls in flight at their full timeout, watched by one sweep timer. */
  private readonly inFlight = new Set<WatchedCall>();
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private readonly sweepMs: number;

  constructor(
    private readonly fullTimeoutMs: (op: OperationName) => number,
    private readonly floorMs: number,
    /** How long a call that ran out its full timeout has to let go (R-CANCEL's grace). */
    private readonly graceMs: number,
  ) {
    this.sweepMs = Math.min(500, Math.max(10, Math.floor(graceMs / 10)));
  }

  /** The shortened timeout of an operation that has hung, or undefined. */
  shortTimeoutMs(op: OperationName): number | undefined {
    const h = this.hung.get(op);
    if (h === undefined) return undefined;
    return Math.min(h.fullMs, Math.max(this.floorMs, SLOWEST_ANSWER_FACTOR * (this.slowest.get(op) ?? 0)));
  }

  /**
   * The raw driver, with every operation watched. Other members (subscribeEvents, a
   * driver's own extras) are the driver's, bound to it. Each member's wrapper is made once:
   * against an in-memory driver a closure per call costs a visible share of the call.
   */
  wrap(raw: ComputeDriver): ComputeDriver {
    const ops = new Set<string>(OPERATION_NAMES);
    const wrappers = new Map<PropertyKey, { of: unknown; wrapper: unknown }>();
    return new Proxy(raw, {
      get: (target, prop) => {
        // Read with the driver itself as receiver: its getters may use private fields.
        const value = Reflect.get(target, prop) as unknown;
        if (typeof value !== 'function') return value;
        const cached = wrappers.get(prop);
        if (cached !== undefined && cached.of === value) return cached.wrapper;
        const method = value as (...a: unknown[]) => unknown;
        const wrapper =
          typeof prop === 'string' && ops.has(prop)
            ? (...args: unknown[]) => this.call(target, prop as OperationName, method, args)
            : method.bind(target);
        wrappers.set(prop, { of: value, wrapper });
        return wrapper;
      },
    });
  }

  private call(target: ComputeDriver, op: OperationName, method: (...a: unknown[]) => unknown, args: unknown[]): Promise<unknown> {
    const running = Promise.resolve(method.apply(target, args));
    const short = this.shortTimeoutMs(op);
    return new Promise<unknown>((resolve, reject) => {
      const call: WatchedCall = { op, args, started: performance.now(), fullMs: this.fullTimeoutMs(op), ranOut: false, listening: false, cut: reject };
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (short === undefined) this.watch(call);
      else timer = setTimeout(() => this.cutShort(call, short), short);
      const settle = (): boolean => {
        clearTimeout(timer);
        return this.inFlight.delete(call) || short !== undefined;
      };
      running.then(
        (value) => {
          if (settle()) this.answered(call, false);
          resolve(value);
        },
        (error: unknown) => {
          if (settle()) this.answered(call, true);
          reject(error);
        },
      );
    });
  }

  /** Watch a call at its full timeout. The guard's own timeout ends the caller's wait; the sweep only learns and lets go. */
  private watch(call: WatchedCall): void {
    this.inFlight.add(call);
    this.sweeper ??= setInterval(() => this.sweep(), this.sweepMs);
  }

  /**
   * A call past its full timeout has run out its time: the operation hangs. A call still
   * running a grace later has not let go: the guard holds its instance until the driver's
   * promise settles, so every later call on the instance would wait out its own full
   * timeout. The breaker lets go in the driver's place.
   */
  private sweep(): void {
    const now = performance.now();
    for (const call of this.inFlight) {
      if (!call.listening) this.listen(call);
      const took = now - call.started;
      if (took < call.fullMs) continue;
      if (!call.ranOut) this.ranOut(call);
      if (took < call.fullMs + this.graceMs) continue;
      this.inFlight.delete(call);
      call.cut(new DriverError('TIMEOUT', { op: call.op, detail: `no answer within ${call.fullMs} ms, and not let go within ${this.graceMs} ms after` }));
    }
    if (this.inFlight.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /**
   * Learn of the guard's timeout the moment it fires, so the operation's next calls get the
   * short timeout at once. Only calls still running at a sweep get here: reading the signal
   * makes the guard create its AbortController, which a call that answers at once never needs.
   */
  private listen(call: WatchedCall): void {
    call.listening = true;
    const signal = signalOf(call.args);
    if (signal === undefined) return;
    const onAbort = (): void => {
      const reason: unknown = signal.reason;
      if (call.ranOut || !this.inFlight.has(call)) return;
      if (isDriverError(reason) && reason.code === 'TIMEOUT' && performance.now() - call.started >= FULL_TIMEOUT_SHARE * call.fullMs) this.ranOut(call);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  }

  private ranOut(call: WatchedCall): void {
    call.ranOut = true;
    this.fullHangs.set(call.op, (this.fullHangs.get(call.op) ?? 0) + 1);
    if (!this.hung.has(call.op)) this.hung.set(call.op, { fullMs: call.fullMs });
  }

  private cutShort(call: WatchedCall, short: number): void {
    this.shortened.set(call.op, (this.shortened.get(call.op) ?? 0) + 1);
    const fullMs = this.hung.get(call.op)!.fullMs;
    call.cut(
      new DriverError('TIMEOUT', {
        op: call.op,
        detail: `no answer within ${short} ms: ${call.op} already ran out its full ${fullMs} ms timeout earlier in this run, so its later calls wait ${SLOWEST_ANSWER_FACTOR}x its slowest answer, at least ${this.floorMs} ms`,
      }),
    );
  }

  /**
   * The driver answered (a cut is no answer: it never reaches here). An error near the full
   * timeout is the driver letting go of a call the guard timed out: it ran out its time.
   * Only answers within the timeout count towards the slowest one.
   */
  private answered(call: WatchedCall, failed: boolean): void {
    const took = performance.now() - call.started;
    if (failed && !call.ranOut && took >= FULL_TIMEOUT_SHARE * call.fullMs) this.ranOut(call);
    if (took < call.fullMs && !call.ranOut && took > (this.slowest.get(call.op) ?? 0)) this.slowest.set(call.op, took);
  }
}

/** A driver call the breaker watches. */
interface WatchedCall {
  readonly op: OperationName;
  /** The call's arguments: the guard passes its options (with a lazy `signal`) last. */
  readonly args: unknown[];
  readonly started: number;
  readonly fullMs: number;
  /** Whether it has been counted as having run out its full timeout. */
  ranOut: boolean;
  /** Whether the sweep listens to its signal. */
  listening: boolean;
  /** Lets go of the call: rejects the promise the guard waits on. */
  readonly cut: (error: DriverError) => void;
}

/** The signal of a call: the guard passes the call options (with `signal`) as the last argument. */
function signalOf(args: unknown[]): AbortSignal | undefined {
  const last = args[args.length - 1] as { signal?: unknown } | undefined;
  return last !== null && typeof last === 'object' && last.signal instanceof AbortSignal ? last.signal : undefined;
}

/** The breaker of a run: full timeouts from the guard options, the floor from hangTimeoutMs, the grace from cancelGraceMs. */
export function hangBreakerFor(options: { guard: { timeouts?: Partial<Record<OperationName, number>> }; hangTimeoutMs: number; cancelGraceMs: number }): HangBreaker {
  return new HangBreaker((op) => options.guard.timeouts?.[op] ?? OPERATIONS[op].defaultTimeoutMs, options.hangTimeoutMs, options.cancelGraceMs);
}
