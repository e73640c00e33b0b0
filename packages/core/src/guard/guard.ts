import type { ComputeDriver, LifecycleListener, Unsubscribe } from '../driver/compute-driver.js';
import { supports, type DriverCapabilities } from '../capabilities/driver-capabilities.js';
import { DriverError, toDriverError } from '../errors/driver-error.js';
import { OPERATIONS, OPERATION_NAMES, isAllowedError, type OperationName, type OptionsOf, type ResultOf } from '../operations/registry.js';
import { LifecycleEventSchema } from '../schemas/outputs.js';
import { KeyedQueue } from '../toolkit/keyed-queue.js';
import { abortableSleep } from '../toolkit/sleep.js';
import { backoffDelay } from '../toolkit/retry.js';
import { parseCall } from './arguments.js';
import { CallContext, withDeadline } from './deadline.js';
import type { GuardedDriver } from './guarded-driver.js';
import type { GuardOptions, GuardRetryPolicy, OutputValidation } from './options.js';
import { checkOutput } from './validate.js';

const NO_RETRY: GuardRetryPolicy = { attempts: 0, baseDelayMs: 100, maxDelayMs: 2000, codes: ['CONFLICT'] };

/** The options object a driver receives: the deadline-carrying signal and the operation's own fields. */
function driverOptions(context: CallContext, fields: Record<string, unknown> | undefined): object {
  const options = fields === undefined ? {} : { ...fields };
  Object.defineProperty(options, 'signal', { get: () => context.signal, enumerable: true });
  return options;
}

class Guard {
  private readonly queue = new KeyedQueue();
  private capabilities: DriverCapabilities | undefined;
  private readonly enforce: boolean;
  private readonly validation: OutputValidation;
  private readonly sampleRate: number;
  private readonly sampled = new Map<OperationName, number>();
  private readonly retry: GuardRetryPolicy;

  constructor(
    readonly raw: ComputeDriver,
    private readonly options: GuardOptions,
  ) {
    this.enforce = options.enforceCapabilities ?? true;
    const v = options.validateOutputs ?? 'all';
    this.validation = v === true ? 'all' : v === false ? 'none' : v;
    this.sampleRate = Math.max(1, Math.floor(options.outputSampleRate ?? 16));
    this.retry = { ...NO_RETRY, ...options.retry };
    // One method per registry entry: the operations are data, not hand-written methods.
    for (const op of OPERATION_NAMES) {
      const arity = OPERATIONS[op].args.length;
      Object.defineProperty(this, op, {
        value: (...given: unknown[]) => this.call(op, given.slice(0, arity), given[arity] as OptionsOf<typeof op> | undefined),
        enumerable: true,
      });
    }
  }

  private violation(error: DriverError): DriverError {
    this.options.onViolation?.(error);
    return error;
  }

  /** Normalise anything the driver threw into a DriverError the operation may raise. */
  private normalise(op: OperationName, target: string | undefined, thrown: unknown): DriverError {
    const error = toDriverError(thrown, op);
    if (isAllowedError(op, error.code)) return error;
    return this.violation(
      new DriverError('INTERNAL', { op, target, detail: `contract violation: ${op} may not raise ${error.code}`, cause: error }),
    );
  }

  /**
   * The one path every operation takes: argument parsing, capability gate, per-instance
   * serialisation, deadline, error normalisation, output validation. Written without
   * async/await on the success path: each await is a promise hop, and against an in-memory
   * driver the hops cost more than the call itself.
   */
  call<K extends OperationName>(op: K, given: readonly unknown[], options?: OptionsOf<K>): Promise<ResultOf<K>> {
    let parsed;
    try {
      parsed = parseCall(op, given, options);
    } catch (error) {
      return Promise.reject(error);
    }
    const { args, key, fields } = parsed;
    const descriptor = OPERATIONS[op];
    const method = (this.raw as unknown as Record<string, unknown>)[op];
    const gated = this.enforce && !descriptor.mandatory && descriptor.capability !== null;
    const invoke = (context: CallContext): Promise<unknown> => {
      if (typeof method !== 'function') {
        return Promise.reject(new DriverError('UNSUPPORTED', { op, capability: descriptor.capability ?? undefined, detail: 'the driver does not implement it' }));
      }
      return (method as (...a: unknown[]) => Promise<unknown>).call(this.raw, ...args, driverOptions(context, fields));
    };
    const run = (context: CallContext): Promise<unknown> => {
      if (!gated) return invoke(context);
      const check = (caps: DriverCapabilities): Promise<unknown> =>
        supports(caps, descriptor.capability!)
          ? invoke(context)
          : Promise.reject(new DriverError('UNSUPPORTED', { op, target: key, capability: descriptor.capability! }));
      return this.capabilities ? check(this.capabilities) : this.fetchCapabilities(options?.signal).then(check);
    };
    const timeoutMs = this.options.timeouts?.[op] ?? descriptor.defaultTimeoutMs;
    // Calls on one instance enter its queue in call order; the deadline covers the wait for
    // the instance's turn as well as the driver's work, and the instance stays locked until
    // the driver's own promise settles, even after a timeout.
    const attempt = (): Promise<unknown> =>
      withDeadline(op, key, timeoutMs, options?.signal, (context) => (key === undefined ? run(context) : this.queue.run(key, () => run(context))));
    const onFailure = (thrown: unknown, n: number): Promise<unknown> => {
      const error = this.normalise(op, key, thrown);
      const retryable = n < this.retry.attempts && this.retry.codes.includes(error.code) && (error.code === 'CONFLICT' || descriptor.idempotent);
      if (!retryable) return Promise.reject(error);
      return abortableSleep(backoffDelay(this.retry, n), options?.signal).then(
        () => attempt().catch((e: unknown) => onFailure(e, n + 1)),
        (e: unknown) => Promise.reject(this.normalise(op, key, e)),
      );
    };
    const result = attempt().catch((e: unknown) => onFailure(e, 0));
    return (op === 'getCapabilities' ? result.then((caps) => this.keepCapabilities(caps)) : this.checkResult(op, key, result)) as Promise<ResultOf<K>>;
  }

  private fetchCapabilities(signal?: AbortSignal): Promise<DriverCapabilities> {
    return this.call('getCapabilities', [], signal ? { signal } : undefined);
  }

  /** Capabilities are validated always, whatever the output validation: the gate depends on them. */
  private keepCapabilities(caps: unknown): DriverCapabilities {
    const checked = this.checked('getCapabilities', undefined, caps) as DriverCapabilities;
    this.capabilities = checked;
    return checked;
  }

  private checkResult(op: OperationName, key: string | undefined, result: Promise<unknown>): Promise<unknown> {
    if (op === 'initHost') this.capabilities = undefined;
    if (OPERATIONS[op].result === null || !this.shouldValidate(op)) return result;
    return result.then((value) => this.checked(op, key, value));
  }

  private shouldValidate(op: OperationName): boolean {
    if (this.validation === 'all') return true;
    if (this.validation === 'none') return false;
    const n = (this.sampled.get(op) ?? 0) + 1;
    this.sampled.set(op, n % this.sampleRate);
    return n % this.sampleRate === 1 || this.sampleRate === 1;
  }

  private checked(op: OperationName, key: string | undefined, value: unknown): unknown {
    let out: unknown;
    try {
      out = checkOutput(OPERATIONS[op].result!, value, op, key);
    } catch (error) {
      throw this.violation(error as DriverError);
    }
    if (op === 'getInfo' && (out as { uuid: string }).uuid.toLowerCase() !== key) {
      throw this.violation(
        new DriverError('INTERNAL', { op, target: key, detail: `contract violation: getInfo returned instance ${(out as { uuid: string }).uuid}` }),
      );
    }
    return out;
  }

  subscribeEvents(listener: LifecycleListener): Unsubscribe {
    if (typeof listener !== 'function') {
      throw new DriverError('INVALID_INPUT', { op: 'subscribeEvents', issues: [{ path: ['listener'], message: 'must be a function' }] });
    }
    if (this.enforce && this.capabilities && !supports(this.capabilities, 'event.lifecycle')) {
      throw new DriverError('UNSUPPORTED', { op: 'subscribeEvents', capability: 'event.lifecycle' });
    }
    const subscribe = this.raw.subscribeEvents;
    if (typeof subscribe !== 'function') {
      throw new DriverError('UNSUPPORTED', { op: 'subscribeEvents', capability: 'event.lifecycle' });
    }
    return subscribe.call(this.raw, (event) => {
      if (this.validation !== 'none') {
        try {
          checkOutput(LifecycleEventSchema, event, 'subscribeEvents');
        } catch (error) {
          this.violation(error as DriverError);
          return;
        }
      }
      try {
        listener(event);
      } catch {
        // A consumer's listener failing must not break the driver's event loop.
      }
    });
  }
}

/**
 * Put a driver behind the wall. Every consumer calls drivers through this: inputs are parsed
 * once (a driver receives typed, defaulted arguments with lower-case uuids) and outputs
 * validated, non-contract exceptions become INTERNAL (with the cause kept), operations on one
 * instance are serialised while different instances run in parallel, and every call gets a
 * deadline carried by the AbortSignal the driver receives. Driver authors write none of this.
 */
export function guard(driver: ComputeDriver, options: GuardOptions = {}): GuardedDriver {
  return new Guard(driver, options) as unknown as GuardedDriver;
}
