import { z } from 'zod';
import type { CallOptions, ComputeDriver, LifecycleListener, PowerOffOptions, Unsubscribe } from '../driver/compute-driver.js';
import { DriverCapabilitiesSchema, supports, type DriverCapabilities } from '../capabilities/driver-capabilities.js';
import { DriverError, toDriverError } from '../errors/driver-error.js';
import type { ErrorCode } from '../errors/codes.js';
import { OPERATIONS, isAllowedError, type OperationName } from '../operations/catalog.js';
import { UuidSchema, IdentifierSchema } from '../schemas/common.js';
import { InstanceSpecSchema, RebootTypeSchema, RebuildSpecSchema, RescueSpecSchema, SnapshotSpecSchema } from '../schemas/instance-spec.js';
import type { InstanceSpecInput, RebootType, RebuildSpecInput, RescueSpecInput, SnapshotSpec } from '../schemas/instance-spec.js';
import { InstanceInfoSchema, InstanceSummarySchema, type InstanceInfo, type InstanceSummary } from '../schemas/instance-info.js';
import { HostInventorySchema, NodeInfoSchema, type HostInventory, type NodeInfo } from '../schemas/inventory.js';
import { VolumeAttachmentSchema, type VolumeAttachmentInput } from '../schemas/block-device-info.js';
import { VifSchema, type VifInput } from '../schemas/network-info.js';
import {
  ConsoleOutputSchema,
  LifecycleEventSchema,
  SnapshotResultSchema,
  type ConsoleOutput,
  type SnapshotResult,
} from '../schemas/outputs.js';
import { KeyedQueue } from '../toolkit/keyed-queue.js';
import { withDeadline } from './deadline.js';
import { checkOutput, parseInput } from './validate.js';

export interface RetryPolicy {
  /** Extra attempts after the first (0 disables retries). */
  attempts: number;
  /** First delay; doubles each attempt, with full jitter. */
  baseDelayMs: number;
  /** Upper bound of one delay. */
  maxDelayMs: number;
  /**
   * Codes retried. CONFLICT is safe for every operation (the backend refused before doing
   * anything); BACKEND_UNAVAILABLE only for idempotent operations, since the call may
   * have half-happened.
   */
  codes: ErrorCode[];
}

export interface GuardOptions {
  /** Per-operation timeout overrides in ms; default OPERATIONS[op].defaultTimeoutMs. */
  timeouts?: Partial<Record<OperationName, number>>;
  /**
   * Refuse operations whose capability is declared missing with UNSUPPORTED, without
   * calling the driver (default true). The conformance suite turns this off to check that
   * the driver itself raises UNSUPPORTED.
   */
  enforceCapabilities?: boolean;
  /** Validate what the driver returns against the schemas (default true). */
  validateOutputs?: boolean;
  /** Retries; default: CONFLICT up to 3 more times from 100 ms. */
  retry?: Partial<RetryPolicy>;
  /** Called when the driver breaks the contract (invalid output or event, disallowed error code). */
  onViolation?: (error: DriverError) => void;
}

/**
 * A driver behind the wall: the same operations as ComputeDriver, all present (missing
 * optional ones reject with UNSUPPORTED), taking the schemas' input types (defaults are
 * applied), rejecting only with DriverError codes the operation may raise.
 */
export interface GuardedDriver {
  /** The unguarded driver, for diagnostics; consumers should not call it. */
  readonly raw: ComputeDriver;
  initHost(options?: CallOptions): Promise<void>;
  cleanupHost(options?: CallOptions): Promise<void>;
  getCapabilities(options?: CallOptions): Promise<DriverCapabilities>;
  listNodes(options?: CallOptions): Promise<NodeInfo[]>;
  getInventory(options?: CallOptions): Promise<HostInventory>;
  listInstances(options?: CallOptions): Promise<InstanceSummary[]>;
  getInfo(uuid: string, options?: CallOptions): Promise<InstanceInfo>;
  spawn(spec: InstanceSpecInput, options?: CallOptions): Promise<void>;
  destroy(uuid: string, options?: CallOptions): Promise<void>;
  powerOff(uuid: string, options?: PowerOffOptions): Promise<void>;
  powerOn(uuid: string, options?: CallOptions): Promise<void>;
  reboot(uuid: string, type: RebootType, options?: CallOptions): Promise<void>;
  pause(uuid: string, options?: CallOptions): Promise<void>;
  unpause(uuid: string, options?: CallOptions): Promise<void>;
  suspend(uuid: string, options?: CallOptions): Promise<void>;
  resume(uuid: string, options?: CallOptions): Promise<void>;
  rescue(uuid: string, spec?: RescueSpecInput, options?: CallOptions): Promise<void>;
  unrescue(uuid: string, options?: CallOptions): Promise<void>;
  rebuild(uuid: string, spec: RebuildSpecInput, options?: CallOptions): Promise<void>;
  snapshot(uuid: string, spec: SnapshotSpec, options?: CallOptions): Promise<SnapshotResult>;
  deleteSnapshot(imageId: string, options?: CallOptions): Promise<void>;
  attachVolume(uuid: string, attachment: VolumeAttachmentInput, options?: CallOptions): Promise<void>;
  detachVolume(uuid: string, volumeId: string, options?: CallOptions): Promise<void>;
  extendVolume(uuid: string, volumeId: string, newSizeGb: number, options?: CallOptions): Promise<void>;
  attachInterface(uuid: string, vif: VifInput, options?: CallOptions): Promise<void>;
  detachInterface(uuid: string, vifId: string, options?: CallOptions): Promise<void>;
  getConsoleOutput(uuid: string, options?: CallOptions): Promise<ConsoleOutput>;
  /** Throws UNSUPPORTED synchronously when the driver has no lifecycle events. */
  subscribeEvents(listener: LifecycleListener): Unsubscribe;
}

const CANONICAL_UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$/;
const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 100, maxDelayMs: 2000, codes: ['CONFLICT'] };
const NewSizeSchema = z.number().int().min(1).max(1024 * 1024);
const GracefulTimeoutSchema = z.number().int().min(0).max(3_600_000);
const NodesSchema = z.array(NodeInfoSchema);
const SummariesSchema = z.array(InstanceSummarySchema);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DriverError('CANCELLED', { cause: signal.reason }));
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(new DriverError('CANCELLED', { cause: signal.reason }));
      },
      { once: true },
    );
  });
}

class Guard implements GuardedDriver {
  private readonly queue = new KeyedQueue();
  private capabilities: DriverCapabilities | undefined;
  private readonly enforce: boolean;
  private readonly validate: boolean;
  private readonly retry: RetryPolicy;

  constructor(
    readonly raw: ComputeDriver,
    private readonly options: GuardOptions,
  ) {
    this.enforce = options.enforceCapabilities ?? true;
    this.validate = options.validateOutputs ?? true;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
  }

  // ---- plumbing -------------------------------------------------------------------------

  private violation(error: DriverError): DriverError {
    this.options.onViolation?.(error);
    return error;
  }

  /** Normalise anything the driver threw into a DriverError the operation may raise. */
  private normalise(op: OperationName, target: string | undefined, thrown: unknown): DriverError {
    const error = toDriverError(thrown, op);
    if (isAllowedError(op, error.code)) return error;
    return this.violation(
      new DriverError('INTERNAL', {
        op,
        target,
        detail: `contract violation: ${op} may not raise ${error.code}`,
        cause: error,
      }),
    );
  }

  private async capabilitiesForGate(signal?: AbortSignal): Promise<DriverCapabilities> {
    return this.capabilities ?? this.getCapabilities(signal ? { signal } : undefined);
  }

  /**
   * The one path every operation takes: capability gate, per-key serialisation, deadline,
   * error normalisation, retries. Written without async/await on the success path: each
   * await is a promise hop, and against an in-memory driver the hops cost more than the
   * call itself.
   */
  private call<T>(
    op: OperationName,
    key: string | undefined,
    options: CallOptions | undefined,
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const descriptor = OPERATIONS[op];
    const gated = this.enforce && !descriptor.mandatory && descriptor.capability !== null;
    const run = (signal: AbortSignal): Promise<T> => {
      if (signal.aborted) return Promise.reject(signal.reason);
      if (!gated) return work(signal);
      const check = (caps: DriverCapabilities): Promise<T> =>
        supports(caps, descriptor.capability!)
          ? work(signal)
          : Promise.reject(new DriverError('UNSUPPORTED', { op, target: key, capability: descriptor.capability! }));
      return this.capabilities ? check(this.capabilities) : this.capabilitiesForGate(signal).then(check);
    };
    const timeoutMs = this.options.timeouts?.[op] ?? descriptor.defaultTimeoutMs;
    // Calls on one instance enter its queue in call order; the deadline covers the wait for
    // the instance's turn as well as the driver's work, and the instance stays locked until
    // the driver's own promise settles, even after a timeout.
    const attempt = (): Promise<T> =>
      withDeadline(op, key, timeoutMs, options?.signal, (signal) =>
        key === undefined ? run(signal) : this.queue.run(key, () => run(signal)),
      );
    const onFailure = (thrown: unknown, n: number): Promise<T> => {
      const error = this.normalise(op, key, thrown);
      const retryable =
        n < this.retry.attempts && this.retry.codes.includes(error.code) && (error.code === 'CONFLICT' || descriptor.idempotent);
      if (!retryable) return Promise.reject(error);
      const cap = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** n);
      return sleep(Math.random() * cap, options?.signal).then(
        () => attempt().catch((e: unknown) => onFailure(e, n + 1)),
        (e: unknown) => Promise.reject(this.normalise(op, key, e)),
      );
    };
    return attempt().catch((e: unknown) => onFailure(e, 0));
  }

  private method<K extends keyof ComputeDriver>(op: OperationName, name: K): NonNullable<ComputeDriver[K]> {
    const fn = this.raw[name];
    if (typeof fn !== 'function') {
      const capability = OPERATIONS[op].capability ?? undefined;
      throw new DriverError('UNSUPPORTED', { op, capability, detail: 'the driver does not implement it' });
    }
    return (fn as (...args: unknown[]) => unknown).bind(this.raw) as NonNullable<ComputeDriver[K]>;
  }

  private out<S extends z.ZodType>(schema: S, value: unknown, op: OperationName, target?: string): z.output<S> {
    if (!this.validate) return value as z.output<S>;
    try {
      return checkOutput(schema, value, op, target);
    } catch (error) {
      throw this.violation(error as DriverError);
    }
  }

  private uuid(op: OperationName, value: unknown, arg = 'uuid'): string {
    // Fast path for the common canonical form (a strict subset of what UuidSchema accepts);
    // anything else goes through the schema, which also words the error.
    if (typeof value === 'string' && CANONICAL_UUID.test(value)) return value;
    return parseInput(UuidSchema, value, op, arg);
  }

  // ---- host -----------------------------------------------------------------------------

  async initHost(options?: CallOptions): Promise<void> {
    this.capabilities = undefined;
    await this.call('initHost', undefined, options, (signal) => this.raw.initHost({ signal }));
  }

  async cleanupHost(options?: CallOptions): Promise<void> {
    await this.call('cleanupHost', undefined, options, (signal) => this.raw.cleanupHost({ signal }));
  }

  async getCapabilities(options?: CallOptions): Promise<DriverCapabilities> {
    const caps = await this.call('getCapabilities', undefined, options, (signal) => this.raw.getCapabilities({ signal }));
    // Capabilities are validated always: the gate depends on them.
    const parsed = DriverCapabilitiesSchema.safeParse(caps);
    if (!parsed.success) {
      throw this.violation(checkOutputError('getCapabilities', parsed.error));
    }
    this.capabilities = parsed.data;
    return parsed.data;
  }

  async listNodes(options?: CallOptions): Promise<NodeInfo[]> {
    const nodes = await this.call('listNodes', undefined, options, (signal) => this.raw.listNodes({ signal }));
    return this.out(NodesSchema, nodes, 'listNodes');
  }

  async getInventory(options?: CallOptions): Promise<HostInventory> {
    const inv = await this.call('getInventory', undefined, options, (signal) => this.raw.getInventory({ signal }));
    return this.out(HostInventorySchema, inv, 'getInventory');
  }

  async listInstances(options?: CallOptions): Promise<InstanceSummary[]> {
    const list = await this.call('listInstances', undefined, options, (signal) => this.raw.listInstances({ signal }));
    return this.out(SummariesSchema, list, 'listInstances');
  }

  // ---- mandatory instance operations ------------------------------------------------------

  // The three hottest calls skip async/await for the same reason as call().

  getInfo(uuid: string, options?: CallOptions): Promise<InstanceInfo> {
    return settleSync(() => {
      const id = this.uuid('getInfo', uuid);
      return this.call('getInfo', id, options, (signal) => this.raw.getInfo(id, { signal })).then((info) => this.checkInfo(info, id));
    });
  }

  private checkInfo(info: InstanceInfo, id: string): InstanceInfo {
    const checked = this.out(InstanceInfoSchema, info, 'getInfo', id);
    if (this.validate && checked.uuid !== id && checked.uuid.toLowerCase() !== id.toLowerCase()) {
      throw this.violation(
        new DriverError('INTERNAL', { op: 'getInfo', target: id, detail: `contract violation: getInfo returned instance ${checked.uuid}` }),
      );
    }
    return checked;
  }

  spawn(spec: InstanceSpecInput, options?: CallOptions): Promise<void> {
    return settleSync(() => {
      const parsed = parseInput(InstanceSpecSchema, spec, 'spawn', 'spec');
      return this.call('spawn', parsed.uuid, options, (signal) => this.raw.spawn(parsed, { signal }));
    });
  }

  destroy(uuid: string, options?: CallOptions): Promise<void> {
    return settleSync(() => {
      const id = this.uuid('destroy', uuid);
      return this.call('destroy', id, options, (signal) => this.raw.destroy(id, { signal }));
    });
  }

  // ---- optional instance operations -------------------------------------------------------

  private async simple(op: 'powerOn' | 'pause' | 'unpause' | 'suspend' | 'resume' | 'unrescue', uuid: string, options?: CallOptions): Promise<void> {
    const id = this.uuid(op, uuid);
    await this.call(op, id, options, (signal) => this.method(op, op)(id, { signal }));
  }

  async powerOff(uuid: string, options?: PowerOffOptions): Promise<void> {
    const id = this.uuid('powerOff', uuid);
    const graceful = options?.gracefulTimeoutMs;
    if (graceful !== undefined) parseInput(GracefulTimeoutSchema, graceful, 'powerOff', 'gracefulTimeoutMs');
    await this.call('powerOff', id, options, (signal) =>
      this.method('powerOff', 'powerOff')(id, graceful === undefined ? { signal } : { signal, gracefulTimeoutMs: graceful }),
    );
  }

  async powerOn(uuid: string, options?: CallOptions): Promise<void> {
    return this.simple('powerOn', uuid, options);
  }

  async reboot(uuid: string, type: RebootType, options?: CallOptions): Promise<void> {
    const id = this.uuid('reboot', uuid);
    const t = parseInput(RebootTypeSchema, type, 'reboot', 'type');
    await this.call('reboot', id, options, (signal) => this.method('reboot', 'reboot')(id, t, { signal }));
  }

  async pause(uuid: string, options?: CallOptions): Promise<void> {
    return this.simple('pause', uuid, options);
  }

  async unpause(uuid: string, options?: CallOptions): Promise<void> {
    return this.simple('unpause', uuid, options);
  }

  async suspend(uuid: string, options?: CallOptions): Promise<void> {
    return this.simple('suspend', uuid, options);
  }

  async resume(uuid: string, options?: CallOptions): Promise<void> {
    return this.simple('resume', uuid, options);
  }

  async rescue(uuid: string, spec: RescueSpecInput = {}, options?: CallOptions): Promise<void> {
    const id = this.uuid('rescue', uuid);
    const parsed = parseInput(RescueSpecSchema, spec, 'rescue', 'spec');
    await this.call('rescue', id, options, (signal) => this.method('rescue', 'rescue')(id, parsed, { signal }));
  }

  async unrescue(uuid: string, options?: CallOptions): Promise<void> {
    return this.simple('unrescue', uuid, options);
  }

  async rebuild(uuid: string, spec: RebuildSpecInput, options?: CallOptions): Promise<void> {
    const id = this.uuid('rebuild', uuid);
    const parsed = parseInput(RebuildSpecSchema, spec, 'rebuild', 'spec');
    await this.call('rebuild', id, options, (signal) => this.method('rebuild', 'rebuild')(id, parsed, { signal }));
  }

  async snapshot(uuid: string, spec: SnapshotSpec, options?: CallOptions): Promise<SnapshotResult> {
    const id = this.uuid('snapshot', uuid);
    const parsed = parseInput(SnapshotSpecSchema, spec, 'snapshot', 'spec');
    const result = await this.call('snapshot', id, options, (signal) => this.method('snapshot', 'snapshot')(id, parsed, { signal }));
    return this.out(SnapshotResultSchema, result, 'snapshot', id);
  }

  async deleteSnapshot(imageId: string, options?: CallOptions): Promise<void> {
    const image = parseInput(IdentifierSchema, imageId, 'deleteSnapshot', 'imageId');
    await this.call('deleteSnapshot', `snapshot:${image}`, options, (signal) =>
      this.method('deleteSnapshot', 'deleteSnapshot')(image, { signal }),
    );
  }

  async attachVolume(uuid: string, attachment: VolumeAttachmentInput, options?: CallOptions): Promise<void> {
    const id = this.uuid('attachVolume', uuid);
    const parsed = parseInput(VolumeAttachmentSchema, attachment, 'attachVolume', 'attachment');
    await this.call('attachVolume', id, options, (signal) => this.method('attachVolume', 'attachVolume')(id, parsed, { signal }));
  }

  async detachVolume(uuid: string, volumeId: string, options?: CallOptions): Promise<void> {
    const id = this.uuid('detachVolume', uuid);
    const vol = this.uuid('detachVolume', volumeId, 'volumeId');
    await this.call('detachVolume', id, options, (signal) => this.method('detachVolume', 'detachVolume')(id, vol, { signal }));
  }

  async extendVolume(uuid: string, volumeId: string, newSizeGb: number, options?: CallOptions): Promise<void> {
    const id = this.uuid('extendVolume', uuid);
    const vol = this.uuid('extendVolume', volumeId, 'volumeId');
    const size = parseInput(NewSizeSchema, newSizeGb, 'extendVolume', 'newSizeGb');
    await this.call('extendVolume', id, options, (signal) => this.method('extendVolume', 'extendVolume')(id, vol, size, { signal }));
  }

  async attachInterface(uuid: string, vif: VifInput, options?: CallOptions): Promise<void> {
    const id = this.uuid('attachInterface', uuid);
    const parsed = parseInput(VifSchema, vif, 'attachInterface', 'vif');
    await this.call('attachInterface', id, options, (signal) => this.method('attachInterface', 'attachInterface')(id, parsed, { signal }));
  }

  async detachInterface(uuid: string, vifId: string, options?: CallOptions): Promise<void> {
    const id = this.uuid('detachInterface', uuid);
    const vif = this.uuid('detachInterface', vifId, 'vifId');
    await this.call('detachInterface', id, options, (signal) => this.method('detachInterface', 'detachInterface')(id, vif, { signal }));
  }

  async getConsoleOutput(uuid: string, options?: CallOptions): Promise<ConsoleOutput> {
    const id = this.uuid('getConsoleOutput', uuid);
    const out = await this.call('getConsoleOutput', id, options, (signal) =>
      this.method('getConsoleOutput', 'getConsoleOutput')(id, { signal }),
    );
    return this.out(ConsoleOutputSchema, out, 'getConsoleOutput', id);
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
      if (this.validate) {
        const parsed = LifecycleEventSchema.safeParse(event);
        if (!parsed.success) {
          this.violation(checkOutputError('subscribeEvents', parsed.error));
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

/** Runs `fn`, turning a synchronous throw (a refused input) into a rejection. */
function settleSync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (error) {
    return Promise.reject(error);
  }
}

function checkOutputError(op: string, error: z.ZodError): DriverError {
  const where = error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
  return new DriverError('INTERNAL', { op, detail: `contract violation: the driver returned invalid output (${where})` });
}

/**
 * Put a driver behind the wall. Every consumer calls drivers through this: inputs and
 * outputs are validated, non-contract exceptions become INTERNAL (with the cause kept),
 * operations on one instance are serialised while different instances run in parallel,
 * and timeouts and cancellation apply. Driver authors write none of this.
 */
export function guard(driver: ComputeDriver, options: GuardOptions = {}): GuardedDriver {
  return new Guard(driver, options);
}
