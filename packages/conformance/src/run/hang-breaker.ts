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

  constructor(
    private readonly fullTimeoutMs: (op: OperationName) => number,
    private readonly floorMs: number,
    /** How long a call that ran out its full timeout has to let go (R-CANCEL's grace). */
    private readonly graceMs: number,
  ) {}

  /** The shortened timeout of an operation that has hung, or undefined. */
  shortTimeoutMs(op: OperationName): number | undefined {
    const h = this.hung.get(op);
    if (h === undefined) return undefined;
    return Math.min(h.fullMs, Math.max(this.floorMs, SLOWEST_ANSWER_FACTOR * (this.slowest.get(op) ?? 0)));
  }

  /**
   * The raw driver, with every operation watched. Other members (subscribeEvents, a
   * driver's own extras) are the driver's, bound to it.
   */
  wrap(raw: ComputeDriver): ComputeDriver {
    const ops = new Set<string>(OPERATION_NAMES);
    return new Proxy(raw, {
      get: (target, prop) => {
        // Read with the driver itself as receiver: its getters may use private fields.
        const value = Reflect.get(target, prop) as unknown;
        if (typeof value !== 'function') return value;
        if (typeof prop === 'string' && ops.has(prop)) return (...args: unknown[]) => this.call(target, prop as OperationName, value as (...a: unknown[]) => unknown, args);
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
  }

  private call(target: ComputeDriver, op: OperationName, method: (...a: unknown[]) => unknown, args: unknown[]): Promise<unknown> {
    const started = performance.now();
    const full = this.fullTimeoutMs(op);
    const signal = signalOf(args);
    const short = this.shortTimeoutMs(op);
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let cut!: (error: unknown) => void;
    const abandoned = new Promise<never>((_, reject) => {
      cut = reject;
    });
    const onAbort = (): void => {
      const reason: unknown = signal?.reason;
      if (!(isDriverError(reason) && reason.code === 'TIMEOUT' && performance.now() - started >= FULL_TIMEOUT_SHARE * full)) return;
      this.fullHangs.set(op, (this.fullHangs.get(op) ?? 0) + 1);
      if (!this.hung.has(op)) this.hung.set(op, { fullMs: full });
      // The guard holds the instance until the driver's promise settles. A driver that does not
      // let go within the grace (R-CANCEL) would hold it for good: every later call on the
      // instance would wait out its own full timeout. The breaker lets go in its place.
      timer = setTimeout(() => {
        if (!settled) cut(reason);
      }, this.graceMs);
    };
    if (short === undefined) {
      signal?.addEventListener('abort', onAbort, { once: true });
    } else {
      timer = setTimeout(() => {
        this.shortened.set(op, (this.shortened.get(op) ?? 0) + 1);
        const fullMs = this.hung.get(op)!.fullMs;
        cut(
          new DriverError('TIMEOUT', {
            op,
            detail: `no answer within ${short} ms: ${op} already ran out its full ${fullMs} ms timeout earlier in this run, so its later calls wait ${SLOWEST_ANSWER_FACTOR}x its slowest answer, at least ${this.floorMs} ms`,
          }),
        );
      }, short);
    }
    // Only the driver's own answers count towards the slowest one, never a cut.
    const answered = (): void => {
      const took = performance.now() - started;
      if (took > (this.slowest.get(op) ?? 0) && took < full) this.slowest.set(op, took);
    };
    const running = Promise.resolve(method.apply(target, args)).then(
      (value) => {
        answered();
        return value;
      },
      (error: unknown) => {
        answered();
        throw error;
      },
    );
    return Promise.race([running, abandoned]).finally(() => {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    });
  }
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
