import {
  expectedOutcome,
  guard,
  powerStateOf,
  OPERATIONS,
  type CapabilityId,
  type DriverCapabilities,
  type GuardedDriver,
  type OperationName,
  type SemanticState,
  type TableOperation,
} from '@nova-common/core';
import type { ResolvedOptions } from '../config.js';
import { SEQUENCE_OPS, callArgs, invoke, shapeOf, type SequenceOp } from '../commands/call.js';
import { opAllowed } from '../commands/intents.js';
import { faulty, type FaultKind } from '../faults/faulty.js';
import { usageOf } from '../model/model.js';
import { usedOf } from '../run/compare.js';
import { allowedCapabilities } from '../run/scope.js';
import { errorCode, type Session } from '../run/session.js';
import { Violation, show } from '../run/violation.js';
import { sampleSpec, sampleUuid, settleAfterDestroy, StepLog } from '../run/fixed.js';
import { sampleCall, type FixedOutcome } from './unsupported.js';

const CASES: { fault: FaultKind; when: 'before' | 'after' }[] = [
  { fault: 'BACKEND_UNAVAILABLE', when: 'before' },
  { fault: 'TIMEOUT', when: 'before' },
  { fault: 'hang', when: 'before' },
  { fault: 'BACKEND_UNAVAILABLE', when: 'after' },
  { fault: 'hang', when: 'after' },
];

const codeOf = (fault: FaultKind): string => (fault === 'hang' ? 'TIMEOUT' : fault);

/**
 * A guard over faulty(raw) firing `fault` at the first call of `op`; no retries. Only a
 * `hang` gets the short timeout: the other faults answer at once, and a real backend's
 * spawn may well take longer than the hang timeout. `settled` waits for the driver's own
 * work (which may still be running, or cleaning up after its abort, when the guard has
 * already answered TIMEOUT) before anything is observed.
 */
function faultyGuard(
  session: Session,
  options: ResolvedOptions,
  op: OperationName,
  fault: FaultKind,
  when: 'before' | 'after',
): GuardedDriver & { settled: () => Promise<void> } {
  const wrapped = faulty(session.raw, [{ op, nth: 1, fault, when }]);
  const g = guard(wrapped, {
    ...options.guard,
    enforceCapabilities: false,
    timeouts: fault === 'hang' ? { ...options.guard.timeouts, [op]: options.hangTimeoutMs } : options.guard.timeouts,
    retry: { attempts: 0 },
  });
  return Object.assign(g, { settled: () => wrapped.settled() });
}

function add(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  for (const k of Object.keys(out)) if (out[k] === 0) delete out[k];
  return out;
}

/** Whether two `used` maps agree (a resource missing from one counts as 0). */
export function sameUsage(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if ((a[k] ?? 0) !== (b[k] ?? 0)) return false;
  return true;
}

/**
 * P-SPAWN-ATOMIC-FAULT: spawn fails through faulty() before or after the driver ran; the
 * error surfaces with its code and the instance is then absent, or complete (never half
 * made); after destroy nothing is left.
 */
export async function checkSpawnAtomicFault(session: Session, options: ResolvedOptions, salt: number): Promise<FixedOutcome> {
  const id = 'P-SPAWN-ATOMIC-FAULT';
  const log = new StepLog();
  const driver = session.driver;
  for (let i = 0; i < CASES.length; i++) {
    const { fault, when } = CASES[i]!;
    const uuid = sampleUuid(options, salt + i);
    const spec = sampleSpec(options, uuid, salt + i);
    const sent = options.adaptSpec(spec);
    const baseList = new Set((await driver.listInstances()).map((s) => s.uuid.toLowerCase()));
    const baseUsed = usedOf(await driver.getInventory());
    const g = faultyGuard(session, options, 'spawn', fault, when);
    const want = codeOf(fault);
    const r = await log.call(`spawn [faulty ${fault} ${when}]`, [spec], { ok: false, error: want as 'TIMEOUT' }, () => g.spawn(sent));
    await g.settled();
    session.count('spawn');
    session.known.add(uuid);
    if (r.ok || r.code !== want) {
      return { trace: log.trace, violation: new Violation(id, 'R-GEN-ERRORS', `spawn with an injected ${fault} (${when}) ${r.ok ? 'succeeded' : `raised ${r.code}`}, expected ${want}`, 'spawn') };
    }
    const info = await log.call('getInfo', [uuid], undefined, () => driver.getInfo(uuid));
    const listed = (await driver.listInstances()).some((s) => s.uuid.toLowerCase() === uuid);
    const used = usedOf(await driver.getInventory());
    if (!info.ok) {
      if (info.code !== 'INSTANCE_NOT_FOUND') {
        return { trace: log.trace, violation: new Violation(id, 'R-INFO-UNKNOWN', `after a failed spawn getInfo raised ${info.code}, expected INSTANCE_NOT_FOUND or the instance`, 'getInfo') };
      }
      if (listed || !sameUsage(used, baseUsed)) {
        return {
          trace: log.trace,
          violation: new Violation(id, 'R-SPAWN-ATOMIC', `spawn failed (${fault} ${when}) and getInfo says INSTANCE_NOT_FOUND, but ${listed ? 'the instance is listed' : `inventory changed: ${show(baseUsed)} -> ${show(used)}`}`, 'spawn'),
        };
      }
    } else if (!listed && sameUsage(used, baseUsed)) {
      return { trace: log.trace, violation: new Violation(id, 'R-INFO-UNKNOWN', `after a failed spawn (${fault} ${when}) getInfo reports ${info.value.powerState} for an instance that is not listed and uses nothing`, 'getInfo') };
    } else {
      const v = info.value;
      const complete =
        v.powerState === 'RUNNING' && v.name === spec.name && listed && sameUsage(used, add(baseUsed, usageOf(sent.flavor)));
      if (!complete) {
        return {
          trace: log.trace,
          violation: new Violation(id, 'R-SPAWN-ATOMIC', `spawn failed (${fault} ${when}) and left a half-made instance: ${show({ powerState: v.powerState, name: v.name, listed, used })}`, 'spawn'),
        };
      }
    }
    const d = await log.call('destroy', [uuid], { ok: true, detail: 'ABSENT' }, () => driver.destroy(uuid));
    session.count('destroy');
    if (!d.ok) return { trace: log.trace, violation: new Violation(id, 'R-DESTROY-IDEMPOTENT', `destroy after a failed spawn raised ${d.code}`, 'destroy') };
    if (info.ok) await settleAfterDestroy(session);
    const afterList = (await driver.listInstances()).map((s) => s.uuid.toLowerCase());
    const afterUsed = usedOf(await driver.getInventory());
    if (afterList.some((u) => !baseList.has(u)) || !sameUsage(afterUsed, baseUsed)) {
      return { trace: log.trace, violation: new Violation(id, 'R-SPAWN-ATOMIC', `after a failed spawn and destroy something is left: ${show({ afterList, afterUsed, baseUsed })}`, 'destroy') };
    }
  }
  return { trace: log.trace, violation: undefined };
}

/** Operations on one instance alone (no other argument), idempotent, answering to one column. */
const ENSURE_OPS: readonly SequenceOp[] = SEQUENCE_OPS.filter(
  (op) => OPERATIONS[op].idempotent && OPERATIONS[op].columns.length === 1 && shapeOf(op).instance === 0 && shapeOf(op).args.length === 1,
);

const outcome = (state: SemanticState, op: SequenceOp): SemanticState | undefined => {
  const o = expectedOutcome(state, OPERATIONS[op].columns[0] as TableOperation);
  return o.ok ? o.to : undefined;
};

/**
 * The operation P-ERRORS-SURFACE exercises, and its inverse: the first idempotent operation
 * the driver declares (within the profile filter) that takes a running instance to another
 * state, with one that brings it back (powerOff/powerOn, else pause/unpause, ...); else the
 * one that removes it (destroy), without inverse.
 */
export function faultPair(caps: DriverCapabilities, allowed: ReadonlySet<CapabilityId> | undefined): [SequenceOp, SequenceOp | undefined] {
  const declared = ENSURE_OPS.filter((op) => opAllowed({ caps, allowed, excluded: new Set() }, op));
  for (const op of declared) {
    const to = outcome('RUNNING', op);
    if (to === undefined || to === 'RUNNING' || to === 'ABSENT') continue;
    const inverse = declared.find((b) => outcome(to, b) === 'RUNNING');
    if (inverse !== undefined) return [op, inverse];
  }
  const leave = declared.find((op) => outcome('RUNNING', op) === 'ABSENT');
  if (leave === undefined) throw new Error('no operation removes an instance: the registry and the table disagree');
  return [leave, undefined];
}

/** The call of an ensure operation on `uuid`, its other fields (options) from its generator. */
async function callOp(driver: GuardedDriver, op: SequenceOp, uuid: string, options: ResolvedOptions): Promise<void> {
  const call = (await sampleCall(op, uuid, options, 0))!;
  await invoke(driver, call, callArgs(call), options.simulate);
}

/**
 * P-ERRORS-SURFACE: faults injected into an instance operation surface with exactly their
 * code (TIMEOUT for a hang), and retrying the idempotent operation reaches the state the
 * table predicts.
 */
export async function checkErrorsSurface(session: Session, options: ResolvedOptions, salt: number): Promise<FixedOutcome> {
  const id = 'P-ERRORS-SURFACE';
  const log = new StepLog();
  const driver = session.driver;
  const [op, inverse] = faultPair(session.caps, allowedCapabilities(options.profiles));
  const uuid = sampleUuid(options, salt);
  const spec = sampleSpec(options, uuid, salt);
  const to: SemanticState = outcome('RUNNING', op) ?? 'RUNNING';
  let alive = false;
  try {
    for (const { fault, when } of CASES) {
      if (!alive) {
        const s = await log.call('spawn', [spec], { ok: true, detail: 'RUNNING' }, () => driver.spawn(options.adaptSpec(spec)));
        session.count('spawn');
        if (!s.ok) return { trace: log.trace, violation: new Violation(id, 'R-SPAWN-ABSENT', `precondition: spawn failed with ${s.code}`, 'spawn') };
        alive = true;
        session.known.add(uuid);
      }
      const want = codeOf(fault);
      const g = faultyGuard(session, options, op, fault, when);
      const r = await log.call(`${op} [faulty ${fault} ${when}]`, [uuid], { ok: false, error: want as 'TIMEOUT' }, () => callOp(g, op, uuid, options));
      await g.settled();
      session.count(op);
      if (r.ok || r.code !== want) {
        return { trace: log.trace, violation: new Violation(id, 'R-GEN-ERRORS', `${op} with an injected ${fault} (${when}) ${r.ok ? 'succeeded' : `raised ${r.code}`}, expected ${want}`, op) };
      }
      const retry = await log.call(op, [uuid], { ok: true, detail: to }, () => callOp(driver, op, uuid, options));
      session.count(op);
      if (!retry.ok) return { trace: log.trace, violation: new Violation(id, 'R-GEN-NOOP', `retrying ${op} after ${fault} (${when}) raised ${retry.code}`, op) };
      if (op === 'destroy') {
        alive = false;
        const info = await log.call('getInfo', [uuid], { ok: false, error: 'INSTANCE_NOT_FOUND' }, () => driver.getInfo(uuid));
        if (info.ok || info.code !== 'INSTANCE_NOT_FOUND') return { trace: log.trace, violation: new Violation(id, 'R-INFO-UNKNOWN', `after destroy was retried getInfo gave ${info.ok ? 'an instance' : info.code}`, 'destroy') };
        await settleAfterDestroy(session);
        continue;
      }
      const info = await log.call('getInfo', [uuid], { ok: true, detail: to }, () => driver.getInfo(uuid));
      const power = to === 'ABSENT' ? undefined : powerStateOf(to);
      if (!info.ok || info.value.powerState !== power) {
        return { trace: log.trace, violation: new Violation(id, 'R-GEN-NOOP', `after retrying ${op} the instance is ${info.ok ? info.value.powerState : info.code}, expected ${String(power)}`, op) };
      }
      if (inverse) {
        const back = await log.call(inverse, [uuid], { ok: true, detail: 'RUNNING' }, () => callOp(driver, inverse, uuid, options));
        if (!back.ok) return { trace: log.trace, violation: new Violation(id, 'R-GEN-NOOP', `${inverse} after the fault raised ${back.code}`, inverse) };
      }
    }
    return { trace: log.trace, violation: undefined };
  } finally {
    if (alive) {
      try {
        await driver.destroy(uuid);
        session.count('destroy');
        await settleAfterDestroy(session);
      } catch (error) {
        log.trace.push({ op: 'destroy', args: [uuid], actual: { ok: false, error: errorCode(error) } });
      }
    }
  }
}
