import { DriverError } from '../errors/driver-error.js';
import { coarseNow, track, untrack, type Expiring } from './deadline.js';

/**
 * The options object a driver receives. Its AbortSignal is made when the driver first reads
 * it: a driver that never looks at its signal (an in-memory one) costs no AbortController per
 * call, and one that reads it after the deadline finds it already aborted with TIMEOUT.
 */
export class DriverCallOptions {
  constructor(private readonly call: PendingCall) {}

  get signal(): AbortSignal {
    return this.call.signal;
  }
}

/** What a PendingCall needs from its guard: running the driver and judging what comes back. */
export interface CallHost {
  invoke(call: PendingCall): Promise<unknown>;
  succeed(call: PendingCall, value: unknown): unknown;
  fail(call: PendingCall, thrown: unknown): DriverError;
}

/**
 * One guarded call in flight: it waits for its instance's turn, runs the driver, and settles
 * with the driver's answer, or earlier with TIMEOUT or CANCELLED. Written as one object with
 * its state in fields rather than a chain of promises and closures: against an in-memory
 * driver every promise hop and closure costs more than the call itself.
 */
export class PendingCall implements Expiring {
  readonly deadline: number;
  prevPending: Expiring | undefined = undefined;
  nextPending: Expiring | undefined = undefined;
  tracked = false;
  /** The next call on the same instance, started when this one's driver promise settles. */
  nextInLine: PendingCall | undefined = undefined;
  /** The queue the call waits in, told when the driver's promise settles, and its slot there. */
  queue: InstanceQueues | undefined = undefined;
  slot: { tail: PendingCall | undefined; running: PendingCall | undefined } | undefined = undefined;
  readonly options: DriverCallOptions;
  private controller: AbortController | undefined;
  private settled = false;
  private resolve!: (value: unknown) => void;
  private reject!: (error: DriverError) => void;
  private onCallerAbort: (() => void) | undefined;
  /** A soft reboot: a hard reboot or a destroy of the same instance ends it early. */
  preemptible = false;
  /** A hard reboot or a destroy: ends a preemptible call running on the same instance. */
  preempts = false;
  /** Whether the capability gate still has to be passed when the call's turn comes. */
  gateWhenRun = false;

  constructor(
    private readonly host: CallHost,
    readonly op: string,
    readonly args: unknown[],
    readonly key: string | undefined,
    readonly fields: Record<string, unknown> | undefined,
    readonly timeoutMs: number,
    private readonly callerSignal: AbortSignal | undefined,
  ) {
    this.deadline = coarseNow() + timeoutMs;
    this.options = new DriverCallOptions(this);
    if (fields !== undefined) Object.assign(this.options, fields);
  }

  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  /** The promise the caller awaits; starts the deadline and listens to the caller's signal. */
  promise(): Promise<unknown> {
    const p = new Promise<unknown>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    track(this);
    const caller = this.callerSignal;
    if (caller !== undefined) {
      this.onCallerAbort = () => this.end(new DriverError('CANCELLED', { op: this.op, target: this.key, cause: caller.reason }));
      caller.addEventListener('abort', this.onCallerAbort, { once: true });
    }
    return p;
  }

  /** End the call with CANCELLED because a stronger call on its instance arrived. */
  preempt(by: string): void {
    this.end(new DriverError('CANCELLED', { op: this.op, target: this.key, detail: `preempted by ${by}` }));
  }

  expire(): void {
    this.end(new DriverError('TIMEOUT', { op: this.op, target: this.key, detail: `no answer within ${this.timeoutMs} ms` }));
  }

  /** Its turn has come: run the driver, unless the call already ended while it waited. */
  start(): void {
    if (this.settled) {
      this.queue?.done(this);
      return;
    }
    let running: Promise<unknown>;
    try {
      running = this.host.invoke(this);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (value) => this.driverSettled(value, undefined, false),
      (error: unknown) => this.driverSettled(undefined, error, true),
    );
  }

  private driverSettled(value: unknown, error: unknown, failed: boolean): void {
    this.queue?.done(this);
    if (this.settled) return;
    this.finish();
    if (failed) {
      this.reject(this.host.fail(this, error));
      return;
    }
    try {
      this.resolve(this.host.succeed(this, value));
    } catch (violation) {
      this.reject(violation as DriverError);
    }
  }

  /** End the call early (deadline or caller's abort); the driver may still be working. */
  private end(error: DriverError): void {
    if (this.settled) return;
    this.finish();
    (this.controller ??= new AbortController()).abort(error);
    this.reject(error);
  }

  private finish(): void {
    this.settled = true;
    untrack(this);
    if (this.onCallerAbort !== undefined) this.callerSignal?.removeEventListener('abort', this.onCallerAbort);
  }
}

/**
 * Calls run one after another per instance and in parallel across instances, in the order
 * they were made. The next call on an instance starts when the driver's promise of the one
 * before has settled, even when that call already ended in TIMEOUT: the instance stays
 * locked while the driver still works on it.
 */
interface Slot {
  /** The last call queued on the instance; undefined while the instance is idle. */
  tail: PendingCall | undefined;
  /** The call whose driver promise is running on the instance. */
  running: PendingCall | undefined;
}

/** Idle slots kept before they are swept: an idle instance costs one small object. */
const IDLE_SWEEP_THRESHOLD = 4096;

export class InstanceQueues {
  // Slots stay in the map while their instance is idle and are swept in bulk: deleting a key
  // from a Map on every call costs more than the rest of the queueing together.
  private readonly slots = new Map<string, Slot>();
  private idle = 0;

  submit(call: PendingCall): void {
    const key = call.key;
    if (key === undefined) {
      call.start();
      return;
    }
    call.queue = this;
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = { tail: undefined, running: undefined };
      this.slots.set(key, slot);
    } else if (slot.tail === undefined) {
      this.idle--;
    }
    call.slot = slot;
    const tail = slot.tail;
    slot.tail = call;
    // A hard reboot or a destroy need not wait for a soft reboot that hangs: the soft reboot is
    // cancelled (its signal aborts) and the stronger call runs once the driver has let go.
    if (call.preempts && slot.running?.preemptible) slot.running.preempt(call.op);
    if (tail !== undefined) tail.nextInLine = call;
    else this.begin(slot, call);
  }

  /** The driver's promise of `call` has settled: start the next call on its instance. */
  done(call: PendingCall): void {
    const next = call.nextInLine;
    call.nextInLine = undefined;
    const slot = call.slot!;
    if (slot.running === call) slot.running = undefined;
    if (next !== undefined) {
      this.begin(slot, next);
      return;
    }
    if (slot.tail !== call) return;
    slot.tail = undefined;
    if (++this.idle > IDLE_SWEEP_THRESHOLD && this.idle * 2 > this.slots.size) this.sweep();
  }

  private begin(slot: Slot, call: PendingCall): void {
    slot.running = call;
    call.start();
  }

  private sweep(): void {
    for (const [key, slot] of this.slots) if (slot.tail === undefined) this.slots.delete(key);
    this.idle = 0;
  }

  /** Instances with a call running or waiting (for tests and diagnostics). */
  get activeKeys(): number {
    return this.slots.size - this.idle;
  }
}
