import {
  guard,
  isDriverError,
  semanticsFor,
  supports,
  type ComputeDriver,
  type DriverCapabilities,
  type DriverError,
  type GuardedDriver,
  type GuardOptions,
  type LifecycleEvent,
  type Unsubscribe,
} from '@nova-common/core';
import type { DriverFactory, ResolvedOptions } from '../config.js';
import type { ModelBaseline } from '../model/model.js';
import { hangBreakerFor, type HangBreaker } from './hang-breaker.js';
import { HostDescriptionError } from './open-error.js';

/**
 * Lifecycle events received, in arrival order, with waiters for the eventual checks. Kept
 * as a growing array with an index: a step remembers the index before its call and looks
 * at what arrived since.
 */
class EventLog {
  readonly events: LifecycleEvent[] = [];
  private waiters: { from: number; match: (e: LifecycleEvent) => boolean; resolve: (e: LifecycleEvent | undefined) => void }[] = [];

  get size(): number {
    return this.events.length;
  }

  push(event: LifecycleEvent): void {
    this.events.push(event);
    if (this.waiters.length === 0) return;
    const index = this.events.length - 1;
    this.waiters = this.waiters.filter((w) => {
      if (index >= w.from && w.match(event)) {
        w.resolve(event);
        return false;
      }
      return true;
    });
  }

  find(from: number, match: (e: LifecycleEvent) => boolean): LifecycleEvent | undefined {
    for (let i = from; i < this.events.length; i++) if (match(this.events[i]!)) return this.events[i];
    return undefined;
  }

  /** The first event since `from` matching, waiting at most `timeoutMs` for it. */
  waitFor(from: number, match: (e: LifecycleEvent) => boolean, timeoutMs: number): Promise<LifecycleEvent | undefined> {
    const found = this.find(from, match);
    if (found || timeoutMs <= 0) return Promise.resolve(found);
    return new Promise((resolve) => {
      const waiter = {
        from,
        match,
        resolve: (e: LifecycleEvent | undefined) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Drop what has been judged, keeping indices meaningful for a new sequence. */
  clear(): void {
    this.events.length = 0;
  }
}

interface SessionStats {
  commands: number;
  calls: number;
  opCounts: Map<string, number>;
  /** What the run learned of the driver's hangs (see HangBreaker). */
  hangs: HangBreaker;
}

/**
 * One driver under test: the raw driver, its guarded face (enforceCapabilities off, so the
 * driver's own answer to undeclared operations is what is tested), its declared
 * capabilities and the event log. Counts calls and commands for the reports and the bench.
 */
export class Session {
  readonly events: EventLog | undefined;
  /** Every uuid (lower case) this session created or found present: events may only name these. */
  readonly known = new Set<string>();
  /** Work counters, shared by the sessions of one run. */
  readonly stats: SessionStats;
  /** Set when event.lifecycle is declared but subscribeEvents threw. */
  subscribeError: unknown;
  /** Index of the first event not yet checked for an unknown uuid. */
  strayCursor = 0;
  /** Index of the first guard-reported violation not yet looked at by the event checks. */
  violationCursor = 0;
  private unsubscribe: Unsubscribe | undefined;

  private constructor(
    readonly raw: ComputeDriver,
    readonly driver: GuardedDriver,
    readonly caps: DriverCapabilities,
    readonly options: ResolvedOptions,
    events: EventLog | undefined,
    /** Contract violations the guard reported (invalid outputs, disallowed error codes). */
    readonly violations: DriverError[],
    stats: SessionStats,
  ) {
    this.events = events;
    this.stats = stats;
  }

  /** Model steps executed (calls judged against the model). */
  get commands(): number {
    return this.stats.commands;
  }

  set commands(n: number) {
    this.stats.commands = n;
  }

  /** Driver calls made, observations included. */
  get calls(): number {
    return this.stats.calls;
  }

  get opCounts(): Map<string, number> {
    return this.stats.opCounts;
  }

  /** Create (when given a factory), connect, wrap and read capabilities. */
  static async open(
    source: DriverFactory | ComputeDriver,
    options: ResolvedOptions,
    wrap: (raw: ComputeDriver) => ComputeDriver = (raw) => raw,
    guardExtra: Partial<GuardOptions> = {},
    stats?: SessionStats,
  ): Promise<Session> {
    const raw = typeof source === 'function' ? await source() : source;
    const violations: DriverError[] = [];
    stats ??= { commands: 0, calls: 0, opCounts: new Map(), hangs: hangBreakerFor(options) };
    const driver = guard(wrap(stats.hangs.wrap(raw)), {
      contractBaseline: options.contractBaseline,
      ...options.guard,
      ...guardExtra,
      enforceCapabilities: false,
      onViolation: (error) => {
        violations.push(error);
        options.guard.onViolation?.(error);
      },
    });
    // An invalid answer here is the driver's fault, not a broken run: P-HOST-DESCRIPTION fails.
    const opening = async <T>(op: 'initHost' | 'getCapabilities', read: () => Promise<T>): Promise<T> => {
      try {
        return await read();
      } catch (error) {
        if (violations.includes(error as DriverError)) throw new HostDescriptionError(op, error as DriverError);
        throw error;
      }
    };
    await opening('initHost', () => driver.initHost());
    const caps = await opening('getCapabilities', () => driver.getCapabilities());
    let events: EventLog | undefined;
    let unsubscribe: Unsubscribe | undefined;
    let subscribeError: unknown;
    if (supports(caps, 'event.lifecycle')) {
      events = new EventLog();
      const log = events;
      try {
        unsubscribe = driver.subscribeEvents((event) => log.push(event));
      } catch (error) {
        // Declared but refused: P-EVENTS reports it; the other properties still run.
        subscribeError = error;
      }
    }
    const session = new Session(raw, driver, caps, options, events, violations, stats);
    session.unsubscribe = unsubscribe;
    session.subscribeError = subscribeError;
    return session;
  }

  /** Whether `error` is a contract violation the guard reported (an invalid output, a code the operation may not raise). */
  isContractViolation(error: unknown): boolean {
    return this.violations.includes(error as DriverError);
  }

  count(op: string): void {
    this.stats.calls++;
    this.stats.opCounts.set(op, (this.stats.opCounts.get(op) ?? 0) + 1);
  }

  /** Read what the model needs at the start of a sequence. */
  async baseline(): Promise<ModelBaseline> {
    const [preexisting, inventory, nodes] = await Promise.all([
      this.driver.listInstances(),
      this.driver.getInventory(),
      this.driver.listNodes(),
    ]);
    for (const s of preexisting) this.known.add(s.uuid.toLowerCase());
    return { caps: this.caps, preexisting, inventory, nodes, table: semanticsFor(this.options.contractBaseline) };
  }

  private closed = false;

  /** Unsubscribe and cleanupHost, once (closing again does nothing). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.unsubscribe?.();
    } catch {
      // Unsubscribing never fails a run.
    }
    await this.driver.cleanupHost();
  }
}

export function errorCode(error: unknown): string {
  return isDriverError(error) ? error.code : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Keep the process alive until `release` is called. The guard's deadline timer does not hold
 * the event loop open, so a driver call that hangs with nothing else pending (an injected
 * `hang`, a backend that never answers) would otherwise let Node exit in the middle of a run,
 * with exit code 0. A run holds this for its whole duration.
 */
export function keepAlive(): () => void {
  const timer = setInterval(() => {}, 1 << 30);
  return () => clearInterval(timer);
}
