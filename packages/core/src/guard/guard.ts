import type { CallOptions, ComputeDriver, LifecycleListener, Unsubscribe } from '../driver/compute-driver.js';
import { supports, type DriverCapabilities } from '../capabilities/driver-capabilities.js';
import { checkCapabilities } from '../capabilities/check-capabilities.js';
import { compareVersions, type CapabilityId } from '../capabilities/catalog.js';
import { SEMANTICS, semanticsFor, type SemanticsTable } from '../semantics/table.js';
import { runUnderTable } from '../semantics/table-in-force.js';
import { CONTRACT_VERSION } from '../version.js';
import { DriverError, toDriverError } from '../errors/driver-error.js';
import { NO_COLUMN_CAPABILITIES, OPERATIONS, OPERATION_NAMES, capabilityOfColumn, columnOfCall, isAllowedError, type OperationDescriptor, type OperationName, type OptionsOf, type ResultOf } from '../operations/registry.js';
import { LifecycleEventSchema } from '../schemas/outputs.js';
import { abortableSleep } from '../toolkit/sleep.js';
import { backoffDelay } from '../toolkit/retry.js';
import { parseCall } from './arguments.js';
import { InstanceQueues, PendingCall, type CallHost } from './pending-call.js';
import type { GuardedDriver } from './guarded-driver.js';
import type { GuardOptions, GuardRetryPolicy, OutputValidation } from './options.js';
import { checkOutput } from './validate.js';

const NO_RETRY: GuardRetryPolicy = { attempts: 0, baseDelayMs: 100, maxDelayMs: 2000, codes: ['CONFLICT'] };

class Guard implements CallHost {
  private readonly queues = new InstanceQueues();
  private capabilities: DriverCapabilities | undefined;
  private readonly enforce: boolean;
  private readonly validation: OutputValidation;
  private readonly sampleRate: number;
  private readonly sampled = new Map<OperationName, number>();
  private readonly retry: GuardRetryPolicy;
  private readonly baseline: string;
  /** The table the driver is held to, when it is not the current one (an older baseline). */
  private readonly olderTable: SemanticsTable | undefined;
  /** Operations added after the driver's baseline: never called on it (it may have a method of that name that is something else). */
  private readonly newerOperations: ReadonlySet<OperationName>;

  constructor(
    readonly raw: ComputeDriver,
    private readonly options: GuardOptions,
  ) {
    this.enforce = options.enforceCapabilities ?? true;
    const v = options.validateOutputs ?? 'all';
    this.validation = v === true ? 'all' : v === false ? 'none' : v;
    this.sampleRate = Math.max(1, Math.floor(options.outputSampleRate ?? 16));
    this.retry = { ...NO_RETRY, ...options.retry };
    this.baseline = options.contractBaseline ?? CONTRACT_VERSION;
    const table = semanticsFor(this.baseline);
    this.olderTable = table === SEMANTICS ? undefined : table;
    this.newerOperations = new Set(OPERATION_NAMES.filter((op) => compareVersions(OPERATIONS[op].since, this.baseline) > 0));
    // One method per registry entry: the operations are data, not hand-written methods.
    for (const op of OPERATION_NAMES) {
      const arity = OPERATIONS[op].args.length;
      Object.defineProperty(this, op, {
        value: (...given: unknown[]) => this.call(op, given, given[arity] as OptionsOf<typeof op> | undefined),
        enumerable: true,
      });
    }
  }

  private violation(error: DriverError): DriverError {
    this.options.onViolation?.(error);
    return error;
  }

  /**
   * The one path every operation takes: capability gate, argument parsing, per-instance
   * serialisation, deadline, error normalisation, output validation, and (only when asked)
   * retries.
   */
  call<K extends OperationName>(op: K, given: readonly unknown[], options?: OptionsOf<K>): Promise<ResultOf<K>> {
    if (this.retry.attempts === 0) return this.attempt(op, given, options) as Promise<ResultOf<K>>;
    return this.withRetries(op, given, options) as Promise<ResultOf<K>>;
  }

  private attempt(op: OperationName, given: readonly unknown[], options: CallOptions | undefined): Promise<unknown> {
    const descriptor = OPERATIONS[op];
    const gated = this.enforce && !descriptor.mandatory && descriptor.capability !== null;
    // R-GEN-ORDER: UNSUPPORTED before INVALID_INPUT, so the gate comes before parsing once the
    // capabilities are known (from the first getCapabilities on). Before that, the call asks for
    // them when its turn comes, after parsing, so that calls on an instance keep their order.
    const caps = this.capabilities;
    if (gated && caps !== undefined) {
      const missing = missingCapability(caps, op, given);
      if (missing !== undefined) return Promise.reject(new DriverError('UNSUPPORTED', { op, capability: missing }));
    }
    let parsed;
    try {
      parsed = parseCall(op, given, options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.newerOperations.size > 0 && this.newerOperations.has(op)) {
      const detail = `added in contract ${descriptor.since}, after the driver's baseline ${this.baseline}`;
      return Promise.reject(new DriverError('UNSUPPORTED', { op, capability: descriptor.capability ?? undefined, detail }));
    }
    if (typeof (this.raw as unknown as Record<string, unknown>)[op] !== 'function') {
      return Promise.reject(new DriverError('UNSUPPORTED', { op, capability: descriptor.capability ?? undefined, detail: 'the driver does not implement it' }));
    }
    if (options?.signal?.aborted) {
      return Promise.reject(new DriverError('CANCELLED', { op, target: parsed.key, cause: options.signal.reason }));
    }
    if (op === 'initHost') this.capabilities = undefined;
    const timeoutMs = this.options.timeouts?.[op] ?? descriptor.defaultTimeoutMs;
    const call = new PendingCall(this, op, parsed.args, parsed.key, parsed.fields, timeoutMs, options?.signal);
    call.gateWhenRun = gated && caps === undefined;
    const preemption = descriptor.preemption as OperationDescriptor['preemption'];
    if (preemption !== null) {
      call.preemptible = preemption.preemptible(parsed.args);
      call.preempts = preemption.preempts(parsed.args);
    }
    const promise = call.promise();
    this.queues.submit(call);
    return promise;
  }

  private async withRetries(op: OperationName, given: readonly unknown[], options: CallOptions | undefined): Promise<unknown> {
    const idempotent = OPERATIONS[op].idempotent;
    for (let n = 0; ; n++) {
      try {
        return await this.attempt(op, given, options);
      } catch (thrown) {
        const error = thrown as DriverError;
        const retryable = n < this.retry.attempts && this.retry.codes.includes(error.code) && (error.code === 'CONFLICT' || idempotent);
        if (!retryable) throw error;
        try {
          await abortableSleep(backoffDelay(this.retry, n), options?.signal);
        } catch (aborted) {
          throw toDriverError(aborted, op);
        }
      }
    }
  }

  // ---- CallHost: what a PendingCall asks of its guard -----------------------------------

  invoke(call: PendingCall): Promise<unknown> {
    if (this.olderTable !== undefined) return runUnderTable(this.olderTable, () => this.invokeDriver(call));
    return this.invokeDriver(call);
  }

  private invokeDriver(call: PendingCall): Promise<unknown> {
    const method = (this.raw as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[call.op]!;
    if (!call.gateWhenRun) return callWithArgs(method, this.raw, call.args, call.options);
    return this.fetchCapabilities(call.signal).then((caps) => {
      const capability = missingCapability(caps, call.op as OperationName, call.args);
      return capability === undefined
        ? callWithArgs(method, this.raw, call.args, call.options)
        : Promise.reject(new DriverError('UNSUPPORTED', { op: call.op, target: call.key, capability }));
    });
  }

  succeed(call: PendingCall, value: unknown): unknown {
    const op = call.op as OperationName;
    // Capabilities are validated always, whatever the output validation: the gate depends on them.
    if (op === 'getCapabilities') {
      this.capabilities = this.completeCapabilities(value);
      return this.capabilities;
    }
    if (OPERATIONS[op].result === null || !this.shouldValidate(op)) return value;
    return this.checked(op, call.key, value);
  }

  /** Normalise anything the driver threw into a DriverError the operation may raise. */
  fail(call: PendingCall, thrown: unknown): DriverError {
    const op = call.op as OperationName;
    const error = toDriverError(thrown, op);
    if (isAllowedError(op, error.code)) return error;
    return this.violation(
      new DriverError('INTERNAL', { op, target: call.key, detail: `contract violation: ${op} may not raise ${error.code}`, cause: error }),
    );
  }

  // ---- outputs and capabilities -------------------------------------------------------

  private fetchCapabilities(signal?: AbortSignal): Promise<DriverCapabilities> {
    if (this.capabilities !== undefined) return Promise.resolve(this.capabilities);
    return this.call('getCapabilities', [], signal ? { signal } : undefined);
  }

  /**
   * The declaration checked against the driver's baseline (checkCapabilities): an invalid one
   * is a contract violation naming each offending field; capabilities added after the
   * baseline that it leaves out are filled in as missing, so consumers see the whole catalogue.
   */
  private completeCapabilities(value: unknown): DriverCapabilities {
    try {
      return checkCapabilities(value, this.baseline);
    } catch (error) {
      throw this.violation(error as DriverError);
    }
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
    // Sequence numbers per instance and per subscription, in delivery order (R-EVENT-SEQ).
    const sequence = new Map<string, number>();
    return subscribe.call(this.raw, (event) => {
      if (this.validation !== 'none') {
        try {
          checkOutput(LifecycleEventSchema, event, 'subscribeEvents');
        } catch (error) {
          this.violation(error as DriverError);
          return;
        }
      }
      const uuid = event.uuid.toLowerCase();
      const seq = (sequence.get(uuid) ?? 0) + 1;
      sequence.set(uuid, seq);
      try {
        listener({ ...event, uuid, seq });
      } catch {
        // A consumer's listener failing must not break the driver's event loop.
      }
    });
  }
}

/** `method.call(self, ...args, options)` without the spread for the usual arities (a measurable cost per call). */
/**
 * The capability a call needs that the driver declares missing: the operation's, or its
 * column's (restoreState to PAUSED or SUSPENDED). Operations without column capabilities (all
 * but one) cost one identity test beyond the operation's own.
 */
function missingCapability(caps: DriverCapabilities, op: OperationName, args: readonly unknown[]): CapabilityId | undefined {
  const descriptor: OperationDescriptor = OPERATIONS[op];
  if (descriptor.capability !== null && !supports(caps, descriptor.capability)) return descriptor.capability;
  // A migration's kind or place (since 1.2.0): read from the arguments, parsed or not.
  if (descriptor.argumentCapabilities !== null) {
    const needed = descriptor.argumentCapabilities(args).find((c) => !supports(caps, c));
    if (needed !== undefined) return needed;
  }
  if (descriptor.columnCapabilities === NO_COLUMN_CAPABILITIES) return undefined;
  const extra = capabilityOfColumn(op, columnOfCall(op, args));
  return extra !== undefined && !supports(caps, extra) ? extra : undefined;
}

function callWithArgs(method: (...a: unknown[]) => Promise<unknown>, self: unknown, args: unknown[], options: unknown): Promise<unknown> {
  let returned: unknown;
  switch (args.length) {
    case 0:
      returned = method.call(self, options);
      break;
    case 1:
      returned = method.call(self, args[0], options);
      break;
    case 2:
      returned = method.call(self, args[0], args[1], options);
      break;
    default:
      returned = method.call(self, ...args, options);
  }
  // A method that is not async (a JavaScript driver, a test helper of the same name) returns a
  // plain value: its output is validated like any other.
  return returned instanceof Promise ? returned : Promise.resolve(returned);
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
