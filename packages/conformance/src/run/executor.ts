import { isDriverError, type InstanceInfo, type InstanceSpecInput, type SnapshotResult } from '@nova-common/core';
import type { StepRecord } from '../result.js';
import type { ResolvedOptions } from '../config.js';
import { callArgs, describeCall, invoke, targetOf, type SequencedCall } from '../commands/call.js';
import { usageOf, type Expectation, type Model } from '../model/model.js';
import { compareInfo, observe } from './observe.js';
import { errorCode, errorMessage, sleep, type Session } from './session.js';
import { Violation } from './violation.js';

/** Everything one sequence needs: the driver session, the model, and what has been done so far. */
export interface ExecContext {
  session: Session;
  model: Model;
  options: ResolvedOptions;
  /** Steps as run (expected vs actual), the counterexample when the sequence fails. */
  trace: StepRecord[];
  /** The calls as run: the replay file. */
  calls: SequencedCall[];
  /** Image ids of the snapshots produced by this sequence, by index. */
  produced: string[];
  /** Property ids whose checks are off (already failed in this run). */
  disabled: ReadonlySet<string>;
  /** The spec actually sent for each spawned uuid (after adaptSpec), for programs. */
  sentSpecs: Map<string, InstanceSpecInput>;
}

/** The property a mismatch in the call's own outcome belongs to. */
function outcomeProperty(call: SequencedCall, model: Model): string {
  if (call.repeat) return 'P-IDEMPOTENT-REPEAT';
  if (call.op === 'spawn' && call.variant !== undefined && call.variant !== 'normal') return 'P-SPAWN-ATOMIC';
  if (call.op === 'getInfo' && model.stateOf(call.uuid) === 'ABSENT') return 'P-INFO-UNKNOWN';
  return 'P-MODEL-SEQUENCES';
}

export function commandKey(call: SequencedCall): string {
  return call.op === 'spawn' && call.variant !== undefined && call.variant !== 'normal' ? `spawn:${call.variant}` : call.op;
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

function summarise(call: SequencedCall, result: unknown): unknown {
  switch (call.op) {
    case 'getInfo': {
      const i = result as InstanceInfo;
      return { powerState: i.powerState, mode: i.mode, volumes: i.volumes.length, interfaces: i.interfaces.length };
    }
    case 'snapshot':
      return { imageId: (result as SnapshotResult).imageId, name: (result as SnapshotResult).name };
    case 'getConsoleOutput':
      return { chars: (result as { output: string }).output.length };
    default:
      return undefined;
  }
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
  if (call.op === 'deleteSnapshot' && 'produced' in call.image && ctx.produced[call.image.produced] === undefined) {
    // Not a driver failure: the sequence itself is invalid (a minimisation candidate dropped the snapshot).
    throw new Error(`deleteSnapshot refers to snapshot #${call.image.produced}, which this sequence did not produce`);
  }
  if (call.op === 'spawn') await waitForRoom(ctx, call);
  model.expirePending();
  const target = targetOf(call);
  if (target !== undefined && call.op !== 'spawn') {
    const column = call.op === 'reboot' ? (call.type === 'SOFT' ? 'rebootSoft' : 'rebootHard') : call.op;
    model.covered.add(`${model.stateOf(target)}:${column}`);
  }
  const spec = call.op === 'spawn' ? options.adaptSpec(call.spec) : undefined;
  // The model judges the flavor actually sent: adaptSpec may turn it into a bare-metal flavor
  // (resources:CUSTOM_X=1, VCPU/MEMORY_MB/DISK_GB=0), which changes what fits and what is used.
  if (spec && call.op === 'spawn') call = { ...call, spec: { ...call.spec, flavor: spec.flavor } };
  const expectation = model.expect(call);
  if (spec && call.op === 'spawn') ctx.sentSpecs.set(call.spec.uuid.toLowerCase(), spec);
  const mark = session.events?.size ?? 0;
  const record: StepRecord = { op: call.op, args: callArgs(call, ctx.produced), expected: expectedRecord(expectation) };
  if (spec && call.op === 'spawn') record.args = [spec];
  ctx.trace.push(record);
  ctx.calls.push(call);

  let result: unknown;
  let error: unknown;
  let failed = false;
  try {
    result = await invoke(session.driver, call, ctx.produced, options.simulate, spec);
  } catch (e) {
    error = e;
    failed = true;
  }
  const now = performance.now();
  session.count(call.op);
  record.actual = failed ? { ok: false, error: errorCode(error), message: errorMessage(error) } : { ok: true, detail: summarise(call, result) };

  const key = commandKey(call);
  // Built only when a message needs it: most steps pass.
  const what = { toString: () => describeCall(call) };
  if (expectation.ok) {
    if (failed) {
      const code = errorCode(error);
      throw new Violation(
        outcomeProperty(call, model),
        expectation.rule,
        `${what}: expected success${expectation.to ? ` (-> ${expectation.to})` : ''}, got ${code}: ${errorMessage(error)}`,
        key,
        expectation,
        code,
        true,
      );
    }
    if (call.op === 'snapshot') {
      const snap = result as SnapshotResult;
      ctx.produced.push(snap.imageId);
      if (snap.name !== call.name) {
        throw new Violation('P-MODEL-SEQUENCES', expectation.rule, `${what}: the snapshot is named ${JSON.stringify(snap.name)}, not ${JSON.stringify(call.name)}`, key, call.name, snap.name, true);
      }
    }
    model.apply(call, expectation, now);
    if (call.op === 'spawn' || call.op === 'getInfo') session.known.add(targetOf(call)!.toLowerCase());
    if (call.op === 'getInfo') {
      const inst = model.get(call.uuid)!;
      const problems = compareInfo(inst, result as InstanceInfo, expectation.rule);
      if (problems.length > 0) {
        const p = problems[0]!;
        throw new Violation(call.repeat ? 'P-IDEMPOTENT-REPEAT' : 'P-MODEL-SEQUENCES', p.rule, `${what}: ${p.message}`, key, p.expected, p.actual);
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
          `${what}: expected ${expectation.error}, got ${failed ? `${code}: ${errorMessage(error)}` : 'success'}`,
          key,
          expectation.error,
          failed ? code : 'success',
          property !== 'P-INFO-UNKNOWN',
        );
      }
    }
    if (failed && !isDriverError(error)) {
      throw new Violation('P-MODEL-SEQUENCES', 'R-GEN-ERRORS', `${what}: rejected with a non-DriverError: ${errorMessage(error)}`, key, undefined, undefined, true);
    }
  }
  session.commands++;
  await observe(ctx, call, expectation, mark, failed);
}
