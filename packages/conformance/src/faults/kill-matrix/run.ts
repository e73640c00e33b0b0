import { randomUUID } from 'node:crypto';
import { guard, isDriverError, supports, type BackendWitness, type ComputeDriver, type GuardedDriver, type GuardOptions, type InstanceSpecInput, type VolumeAttachmentInput } from '@nova-common/core';
import { RUN_ID_KEY } from '../../config.js';
import { sweep } from '../../run/sweep.js';
import { ALREADY_DONE, KILL_OPERATIONS, type KillOperation, type KillSubject } from './operations.js';

/** A backend whose daemon the matrix kills, and what it needs to act on it. */
export interface KillMatrixOptions {
  /** Shown in the matrix: `libvirt (QEMU)`, `dockerd`. */
  backend: string;
  /** A new, unconnected driver: one per session (before the kill, and the restarted service after it). */
  createDriver(): ComputeDriver;
  /** Kill the backend's daemon at once (SIGKILL), leaving its state as a crash leaves it. */
  killBackend(): Promise<void>;
  /** Start the daemon again, keeping its state; resolves once it answers. */
  startBackend(): Promise<void>;
  /** The backend seen without the driver: what a killed operation left is found here. */
  witness: BackendWitness;
  /** A spawnable spec for `uuid` (the matrix adds its run id to the metadata). */
  spec(uuid: string): InstanceSpecInput;
  /** A volume the instance can attach, for attachVolume and detachVolume. */
  volume?(uuid: string): VolumeAttachmentInput | Promise<VolumeAttachmentInput>;
  operations: readonly KillOperation[];
  /** When to kill, as fractions of the operation's undisturbed duration (measured first). Default: 0 and 0.5. */
  killAt?: readonly number[];
  /** How long the retries after the restart may take to converge. Default 120 s. */
  convergeWithinMs?: number;
  /** The guard's options for every session (short timeouts keep a stuck call from taking the default minutes). */
  guardOptions?: GuardOptions;
  /** Marks the instances, so sweep finds them. Default: a fresh id. */
  runId?: string;
}

/** One cell: an operation, interrupted at one point, and what followed. */
export interface KillCell {
  operation: KillOperation;
  /** The fraction of the undisturbed duration, and the time of the kill after the call began. */
  killAt: number;
  killedAfterMs: number;
  undisturbedMs: number;
  /** `ok`, or the error code; with whether the contract says the caller may retry it. */
  answered: string;
  retryable: boolean | undefined;
  /** Retries after the restart until the effect was there; undefined when it never was. */
  retries: number | undefined;
  convergedInMs: number | undefined;
  /** Machines of the instance the witness saw that the driver did not report (or the reverse), after convergence. */
  disagreements: string[];
  /** Machines of the instance left on the backend after sweep. */
  leaks: number;
  /** Why the cell fails the contract, or undefined when it holds. */
  failure: string | undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Kill the backend's daemon during each operation at each point, start it again, and check
 * what the contract promises a caller of a crashed backend: the interrupted call answers
 * (success, or a typed error the caller may retry), a new driver session (the restarted
 * service) converges by retrying the same call, the driver's view and the backend's agree,
 * and sweep leaves nothing of the instance on the backend. Cells run one after another; each
 * uses its own instance.
 */
export async function runKillMatrix(options: KillMatrixOptions): Promise<KillCell[]> {
  const runId = options.runId ?? `kill-${randomUUID().slice(0, 8)}`;
  const cells: KillCell[] = [];
  const probe = session(options);
  await probe.initHost();
  const caps = await probe.getCapabilities();
  await probe.cleanupHost();
  for (const operation of options.operations) {
    const plan = KILL_OPERATIONS[operation];
    if (plan.capability !== null && !supports(caps, plan.capability as never)) throw new Error(`${options.backend}: the driver declares ${plan.capability} missing; leave ${operation} out of the kill matrix`);
    const undisturbedMs = await undisturbed(options, operation, runId);
    for (const killAt of options.killAt ?? [0, 0.5]) cells.push(await cell(options, operation, killAt, undisturbedMs, runId));
  }
  return cells;
}

function session(options: KillMatrixOptions): GuardedDriver {
  return guard(options.createDriver(), options.guardOptions);
}

async function subject(options: KillMatrixOptions, runId: string): Promise<KillSubject> {
  const uuid = randomUUID();
  const spec = options.spec(uuid);
  return { uuid, spec: { ...spec, metadata: { ...spec.metadata, [RUN_ID_KEY]: runId } }, volume: await options.volume?.(uuid) };
}

/** The operation's duration with nothing disturbed: the kill points are fractions of it. */
async function undisturbed(options: KillMatrixOptions, operation: KillOperation, runId: string): Promise<number> {
  const plan = KILL_OPERATIONS[operation];
  const d = session(options);
  await d.initHost();
  const s = await subject(options, runId);
  try {
    await plan.prepare(d, s);
    const started = performance.now();
    await plan.call(d, s);
    return performance.now() - started;
  } finally {
    await sweep(d, runId);
    await d.cleanupHost();
  }
}

async function cell(options: KillMatrixOptions, operation: KillOperation, killAt: number, undisturbedMs: number, runId: string): Promise<KillCell> {
  const plan = KILL_OPERATIONS[operation];
  const s = await subject(options, runId);
  const before = session(options);
  await before.initHost();
  await plan.prepare(before, s);
  const started = performance.now();
  const answer = plan.call(before, s).then(
    () => ({ code: 'ok', retryable: undefined as boolean | undefined }),
    (error: unknown) => (isDriverError(error) ? { code: error.code, retryable: error.retryable } : { code: `not a DriverError: ${String(error)}`, retryable: undefined }),
  );
  await sleep(killAt * undisturbedMs);
  const killedAfterMs = performance.now() - started;
  await options.killBackend();
  const answered = await answer;
  await options.startBackend();
  await before.cleanupHost().catch(() => undefined);

  const after = session(options);
  const result: KillCell = { operation, killAt, killedAfterMs, undisturbedMs, answered: answered.code, retryable: answered.retryable, retries: undefined, convergedInMs: undefined, disagreements: [], leaks: 0, failure: undefined };
  const failures: string[] = [];
  if (answered.code !== 'ok' && answered.retryable !== true) failures.push(`the interrupted call answered ${answered.code}, which the caller may not retry`);
  try {
    await retrying(options, () => after.initHost());
    const converged = await converge(options, operation, after, s);
    result.retries = converged.retries;
    result.convergedInMs = converged.ms;
    if (converged.failure !== undefined) failures.push(converged.failure);
    result.disagreements = await disagreements(options.witness, after, s.uuid);
    if (result.disagreements.length > 0) failures.push(`driver and backend disagree: ${result.disagreements.join('; ')}`);
  } finally {
    const swept = await sweep(after, runId).catch((error: unknown) => ({ failures: [{ target: 'sweep', message: String(error) }] }));
    for (const f of swept.failures) failures.push(`sweep could not remove ${f.target}: ${f.message}`);
    result.leaks = (await options.witness.listMachines()).filter((m) => m.uuid === s.uuid).length;
    if (result.leaks > 0) failures.push(`${result.leaks} machine(s) of the instance left on the backend after sweep`);
    await after.cleanupHost().catch(() => undefined);
  }
  result.failure = failures.length > 0 ? failures.join('; ') : undefined;
  return result;
}

/** Call until the backend answers something other than a retryable error (it is still coming up). */
async function retrying<T>(options: KillMatrixOptions, call: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + (options.convergeWithinMs ?? 120_000);
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!(isDriverError(error) && error.retryable) || performance.now() > deadline) throw error;
      await sleep(250);
    }
  }
}

/** Retry the call (as a caller that did not learn its outcome would) until its effect is there. */
async function converge(options: KillMatrixOptions, operation: KillOperation, d: GuardedDriver, s: KillSubject): Promise<{ retries: number | undefined; ms: number | undefined; failure: string | undefined }> {
  const plan = KILL_OPERATIONS[operation];
  const started = performance.now();
  const deadline = started + (options.convergeWithinMs ?? 120_000);
  let last = 'no retry ran';
  for (let retries = 0; performance.now() < deadline; retries++) {
    if (await retrying(options, () => plan.reached(d, s))) return { retries, ms: performance.now() - started, failure: undefined };
    try {
      await plan.call(d, s);
      last = 'the retry answered ok';
    } catch (error) {
      if (!isDriverError(error)) return { retries: undefined, ms: undefined, failure: `the retry threw a non-contract error: ${String(error)}` };
      last = `the retry answered ${error.code} (${error.message.slice(0, 300)})`;
      if (!error.retryable && !(ALREADY_DONE[operation] ?? []).includes(error.code)) return { retries: undefined, ms: undefined, failure: `${last}, which is neither retryable nor "already done", and the effect is not there` };
      await sleep(250);
    }
  }
  return { retries: undefined, ms: undefined, failure: `did not converge within ${options.convergeWithinMs ?? 120_000} ms (${last})` };
}

/** The instance as the witness sees it against the driver's list. */
async function disagreements(witness: BackendWitness, d: GuardedDriver, uuid: string): Promise<string[]> {
  const seen = (await witness.listMachines()).filter((m) => m.uuid === uuid).length;
  const listed = (await d.listInstances()).filter((i) => i.uuid === uuid).length;
  if (seen === listed && seen <= 1) return [];
  return [`the backend holds ${seen} machine(s) of ${uuid}, the driver lists ${listed}`];
}
