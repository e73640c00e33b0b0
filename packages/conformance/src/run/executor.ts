import { isDriverError, type InstanceInfo, type SnapshotResult } from '@nova-common/core';
import type { StepRecord } from '../result.js';
import { callArgs, columnOf, describeCall, invoke, producesImage, targetOf, unproduced, type SequencedCall } from '../commands/call.js';
import { usageOf, type Expectation, type Model } from '../model/model.js';
import type { PropertyId } from '../properties/catalog.js';
import { commandKey, type ExecContext } from './context.js';
import { compareInfo, errorFieldsProblem } from './compare.js';
import { observe } from './observe.js';
import { errorCode, errorMessage, sleep } from './session.js';
import { Violation } from './violation.js';

/** The property a mismatch in the call's own outcome belongs to. */
function outcomeProperty(call: SequencedCall, model: Model): PropertyId {
  if (call.repeat) return 'P-IDEMPOTENT-REPEAT';
  if (call.op === 'spawn' && call.variant !== undefined && call.variant !== 'normal') return 'P-SPAWN-ATOMIC';
  if (call.op === 'getInfo' && model.stateOf(call.uuid) === 'ABSENT') return 'P-INFO-UNKNOWN';
  return 'P-MODEL-SEQUENCES';
}

/**
 * Before a spawn that needs room a pending release would free, wait the release out:
 * the documented eventual-consistency rule (a destroyed instance's node and resources are
 * back within the declared bounds) instead of a per-driver exception.
 */
async function waitForRoom(ctx: ExecContext, call: Extract<SequencedCall, { op: 'spawn' }>): Promise<void> {
  const { model } = ctx;
  model.expirePending();
  if (model.pending.length === 0 || model.stateOf(call.spec.uuid) !== 'ABSENT') return;
  const needsWait = model.multiNode
    ? model.instances.size + model.pending.length >= model.baselineAvailableNodes
    : !model.fits(usageOf(call.spec.flavor));
  if (!needsWait) return;
  const deadline = model.pendingDeadline();
  if (deadline >= performance.now()) await sleep(deadline - performance.now() + 1);
  model.expirePending();
}

/** What a step's record says the driver returned: the fields the reports show, never the whole value. */
function summarise(result: unknown): unknown {
  if (result === null || typeof result !== 'object') return undefined;
  const r = result as Partial<InstanceInfo & SnapshotResult & { output: string }>;
  if (r.powerState !== undefined) return { powerState: r.powerState, mode: r.mode, volumes: r.volumes?.length, interfaces: r.interfaces?.length };
  if (r.imageId !== undefined) return { imageId: r.imageId, name: r.name };
  if (typeof r.output === 'string') return { chars: r.output.length };
  return undefined;
}

function expectedRecord(e: Expectation): StepRecord['expected'] {
  return e.ok ? { ok: true, detail: e.to } : { ok: false, error: e.error };
}

/**
 * Run one call: ask the model what must happen, call the driver through the guard,
 * compare the return value or the exact error code, update the model, then check the
 * observable state (getInfo of the instance, the instance list, inventory, events).
 * Throws a Violation on the first difference.
 */
export async function execute(ctx: ExecContext, call: SequencedCall): Promise<void> {
  const { session, model, options } = ctx;
  const missing = unproduced(call, ctx.produced);
  if (missing !== undefined) {
    // Not a driver failure: the sequence itself is invalid (a minimisation candidate dropped the snapshot).
    throw new Error(`${call.op} refers to snapshot #${missing.produced}, which this sequence did not produce`);
  }
  if (call.op === 'spawn') await waitForRoom(ctx, call);
  model.expirePending();
  const target = targetOf(call);
  const column = columnOf(call);
  if (target !== undefined && column !== undefined && call.op !== 'spawn') model.cover(model.stateOf(target), column);
  let args = callArgs(call, ctx.produced);
  if (call.op === 'spawn') {
    // The model judges the flavor actually sent: adaptSpec may turn it into a bare-metal flavor
    // (resources:CUSTOM_X=1, VCPU/MEMORY_MB/DISK_GB=0), which changes what fits and what is used.
    const sent = options.adaptSpec(call.spec);
    if (sent.flavor !== call.spec.flavor) call = { ...call, spec: { ...call.spec, flavor: sent.flavor } };
    ctx.sentSpecs.set(call.spec.uuid.toLowerCase(), sent);
    args = [sent];
  }
  const expectation = model.expect(call);
  const mark = session.events?.size ?? 0;
  const record: StepRecord = { op: call.op, args, expected: expectedRecord(expectation) };
  ctx.trace.push(record);
  ctx.calls.push(call);

  let result: unknown;
  let error: unknown;
  let failed = false;
  try {
    result = await invoke(session.driver, call, args, options.simulate);
  } catch (e) {
    error = e;
    failed = true;
  }
  const now = performance.now();
  session.count(call.op);
  record.actual = failed ? { ok: false, error: errorCode(error), message: errorMessage(error) } : { ok: true, detail: summarise(result) };

  const key = commandKey(call);
  if (expectation.ok) {
    if (failed) {
      const code = errorCode(error);
      throw new Violation(
        outcomeProperty(call, model),
        expectation.rule,
        `${describeCall(call)}: expected success${expectation.to ? ` (-> ${expectation.to})` : ''}, got ${code}: ${errorMessage(error)}`,
        key,
        expectation,
        code,
        true,
      );
    }
    if (producesImage(call.op)) {
      // The image is the driver's: later calls name it by index ({ produced: n }).
      const snap = result as SnapshotResult;
      ctx.produced.push(snap.imageId);
      // A snapshot bears the name it was asked for.
      if (call.op === 'snapshot' && snap.name !== call.spec.name) {
        throw new Violation('P-MODEL-SEQUENCES', expectation.rule, `${describeCall(call)}: the snapshot is named ${JSON.stringify(snap.name)}, not ${JSON.stringify(call.spec.name)}`, key, call.spec.name, snap.name, true);
      }
    }
    model.apply(call, expectation, now);
    if (target !== undefined && (call.op === 'spawn' || call.op === 'getInfo')) session.known.add(target.toLowerCase());
    if (call.op === 'getInfo') {
      const inst = model.get(call.uuid)!;
      const problems = compareInfo(inst, result as InstanceInfo, expectation.rule);
      if (problems.length > 0) {
        const p = problems[0]!;
        throw new Violation(call.repeat ? 'P-IDEMPOTENT-REPEAT' : 'P-MODEL-SEQUENCES', p.rule, `${describeCall(call)}: ${p.message}`, key, p.expected, p.actual);
      }
    }
  } else {
    const code = errorCode(error);
    if (!failed || code !== expectation.error) {
      const property = outcomeProperty(call, model);
      if (!(property === 'P-INFO-UNKNOWN' && ctx.disabled.has(property))) {
        throw new Violation(
          property,
          expectation.rule,
          `${describeCall(call)}: expected ${expectation.error}, got ${failed ? `${code}: ${errorMessage(error)}` : 'success'}`,
          key,
          expectation.error,
          failed ? code : 'success',
          property !== 'P-INFO-UNKNOWN',
        );
      }
    }
    if (failed && !isDriverError(error)) {
      throw new Violation('P-MODEL-SEQUENCES', 'R-GEN-ERRORS', `${describeCall(call)}: rejected with a non-DriverError: ${errorMessage(error)}`, key, undefined, undefined, true);
    }
    // The right code: then the fields a caller acts on (retryable, the capability, the field).
    const p = failed && code === expectation.error ? errorFieldsProblem(error, expectation) : undefined;
    if (p) {
      const property = outcomeProperty(call, model);
      if (!(property === 'P-INFO-UNKNOWN' && ctx.disabled.has(property))) {
        throw new Violation(property, p.rule, `${describeCall(call)}: ${p.message}`, key, p.expected, p.actual);
      }
    }
  }
  session.commands++;
  await observe(ctx, { call, target, key, expectation, mark, failed });
}

