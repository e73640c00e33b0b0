import { supports, type InstanceInfo } from '@nova-common/core';
import type { ResolvedOptions } from '../config.js';
import { usedOf } from '../run/compare.js';
import { errorCode, type Session } from '../run/session.js';
import { Violation, show } from '../run/violation.js';
import { sampleSpec, sampleUuid, settleAfterDestroy, StepLog } from '../run/fixed.js';
import { sameUsage } from './faults.js';
import type { FixedOutcome } from './unsupported.js';

const ID = 'P-CANCEL';

/**
 * When the suite aborts each cancelled call's signal, in ms after the call was made: at once
 * (the driver has just begun), and a little later (it is inside its backend calls).
 */
export const CANCEL_DELAYS_MS: readonly number[] = [0, 3, 30];

/**
 * The graceful period the cancelled powerOff asks for: well beyond the cancel grace, so that a
 * driver waiting it out for a guest that does not answer is caught (a correct driver lets go at
 * once), and no longer, so that a run on a driver whose guest does not answer is not held long.
 */
export function cancelGracefulMs(options: Pick<ResolvedOptions, 'cancelGraceMs'>): number {
  return Math.max(5_000, 2 * options.cancelGraceMs);
}

type Outcome = { ok: true } | { ok: false; code: string };

/**
 * Make a call with a signal the suite aborts `delayMs` after it, then wait for the driver's own
 * work: the next call on the instance (getInfo, which the guard runs only once the cancelled
 * call's driver work has returned) measures how long the driver took to let go.
 */
async function cancelled<T>(
  log: StepLog,
  label: string,
  args: unknown[],
  delayMs: number,
  run: (signal: AbortSignal) => Promise<T>,
  next: () => Promise<InstanceInfo>,
): Promise<{ outcome: Outcome; info: InstanceInfo | string; letGoMs: number }> {
  const controller = new AbortController();
  let abortedAt = 0;
  const timer = setTimeout(() => {
    abortedAt = performance.now();
    controller.abort(new Error('cancelled by the conformance suite'));
  }, delayMs);
  const r = await log.call(`${label} [cancelled after ${delayMs} ms]`, args, undefined, () => run(controller.signal));
  // A call that answered before the abort is left alone (its answer is judged as any other).
  if (abortedAt === 0) clearTimeout(timer);
  const info = await log.call('getInfo', [args[0]], undefined, next);
  const letGoMs = abortedAt === 0 ? 0 : performance.now() - abortedAt;
  return {
    outcome: r.ok ? { ok: true } : { ok: false, code: r.code },
    info: info.ok ? info.value : info.code,
    letGoMs,
  };
}

/** The first thing wrong with how a cancelled call answered and let go, if any. */
function answerProblem(what: string, outcome: Outcome, letGoMs: number, options: ResolvedOptions): string | undefined {
  if (!outcome.ok && outcome.code !== 'CANCELLED') return `${what} raised ${outcome.code}; a cancelled call must reject with CANCELLED, or answer as it would have`;
  if (letGoMs > options.cancelGraceMs) return `${what}: the driver let go of its work ${Math.round(letGoMs)} ms after the signal aborted (the next call on the instance waited that long); at most ${options.cancelGraceMs} ms is allowed (cancelGraceMs)`;
  return undefined;
}

/**
 * P-CANCEL: the suite cancels calls itself, aborting their signal at once and a few ms into
 * the call. A cancelled call rejects with CANCELLED (or answers as it would have, when it was
 * done first), the driver lets go of its work within `cancelGraceMs`, and the instance is left
 * as before the call or as after it, never in between: a cancelled spawn leaves nothing or the
 * whole instance, a cancelled powerOff (with a graceful period a guest may not answer) leaves
 * it running or off, a cancelled destroy leaves it or removes it. A retry then converges.
 */
export async function checkCancel(session: Session, options: ResolvedOptions, salt: number): Promise<FixedOutcome> {
  const log = new StepLog();
  const driver = session.driver;
  const fail = (rule: Violation['rule'], message: string, key: string): FixedOutcome => ({ trace: log.trace, violation: new Violation(ID, rule, message, key) });
  const alive = new Set<string>();
  try {
    for (let i = 0; i < CANCEL_DELAYS_MS.length; i++) {
      const delay = CANCEL_DELAYS_MS[i]!;
      const uuid = sampleUuid(options, salt + i);
      const spec = sampleSpec(options, uuid, salt + i);
      const sent = options.adaptSpec(spec);
      session.known.add(uuid);
      const baseUsed = usedOf(await driver.getInventory());

      // spawn, cancelled: nothing, or the whole instance.
      const s = await cancelled(log, 'spawn', [spec], delay, (signal) => driver.spawn(sent, { signal }), () => driver.getInfo(uuid));
      session.count('spawn');
      const sp = answerProblem(`spawn cancelled after ${delay} ms`, s.outcome, s.letGoMs, options);
      if (sp) return fail('R-CANCEL', sp, 'spawn');
      const listed = (await driver.listInstances()).some((x) => x.uuid.toLowerCase() === uuid);
      const used = usedOf(await driver.getInventory());
      if (typeof s.info === 'string') {
        if (s.outcome.ok) return fail('R-CANCEL', `spawn answered ok before its cancellation took effect, but getInfo then raised ${s.info}`, 'spawn');
        if (s.info !== 'INSTANCE_NOT_FOUND' || listed || !sameUsage(used, baseUsed)) {
          return fail('R-CANCEL', `spawn cancelled after ${delay} ms left a half-made instance: getInfo ${s.info}, listed ${listed}, inventory ${show(baseUsed)} -> ${show(used)}`, 'spawn');
        }
      } else {
        alive.add(uuid);
        const complete = s.info.powerState === 'RUNNING' && s.info.name === spec.name && listed;
        if (!complete) return fail('R-CANCEL', `spawn cancelled after ${delay} ms left a half-made instance: ${show({ powerState: s.info.powerState, name: s.info.name, listed })}`, 'spawn');
      }
      if (!alive.has(uuid)) {
        // Cancelled before it took effect: a retry must make the instance.
        const retry = await log.call('spawn', [spec], { ok: true, detail: 'RUNNING' }, () => driver.spawn(sent));
        session.count('spawn');
        if (!retry.ok) return fail('R-CANCEL', `spawn retried after its cancellation raised ${retry.code}`, 'spawn');
        alive.add(uuid);
      }
      const full = usedOf(await driver.getInventory());

      // powerOff with a graceful period, cancelled: running or off, and powerOff then converges.
      if (supports(session.caps, 'operation.power-on-off')) {
        const graceful = cancelGracefulMs(options);
        const p = await cancelled(
          log,
          'powerOff',
          [uuid, { gracefulTimeoutMs: graceful }],
          delay,
          (signal) => driver.powerOff(uuid, { gracefulTimeoutMs: graceful, signal }),
          () => driver.getInfo(uuid),
        );
        session.count('powerOff');
        const pp = answerProblem(`powerOff cancelled after ${delay} ms`, p.outcome, p.letGoMs, options);
        if (pp) return fail('R-CANCEL', pp, 'powerOff');
        const allowed: string[] = p.outcome.ok ? ['SHUTDOWN'] : ['RUNNING', 'SHUTDOWN'];
        const power = typeof p.info === 'string' ? p.info : p.info.powerState;
        if (!allowed.includes(power)) {
          return fail('R-CANCEL', `powerOff ${p.outcome.ok ? 'answered ok' : 'cancelled'} after ${delay} ms, and the instance is ${power}; expected ${allowed.join(' or ')}`, 'powerOff');
        }
        const again = await log.call('powerOff', [uuid, { gracefulTimeoutMs: 0 }], { ok: true, detail: 'SHUTDOWN' }, () => driver.powerOff(uuid, { gracefulTimeoutMs: 0 }));
        session.count('powerOff');
        if (!again.ok) return fail('R-GEN-NOOP', `powerOff retried after its cancellation raised ${again.code}`, 'powerOff');
        const on = await log.call('powerOn', [uuid], { ok: true, detail: 'RUNNING' }, () => driver.powerOn(uuid));
        session.count('powerOn');
        if (!on.ok) return fail('R-POWER-ON-SHUTDOWN', `powerOn after the cancelled powerOff raised ${on.code}`, 'powerOn');
      }

      // destroy, cancelled: the instance stays or goes, and destroy then converges.
      const d = await cancelled(log, 'destroy', [uuid], delay, (signal) => driver.destroy(uuid, { signal }), () => driver.getInfo(uuid));
      session.count('destroy');
      const dp = answerProblem(`destroy cancelled after ${delay} ms`, d.outcome, d.letGoMs, options);
      if (dp) return fail('R-CANCEL', dp, 'destroy');
      if (d.outcome.ok && d.info !== 'INSTANCE_NOT_FOUND') {
        return fail('R-CANCEL', `destroy answered ok after ${delay} ms, but getInfo then gave ${typeof d.info === 'string' ? d.info : d.info.powerState}`, 'destroy');
      }
      if (typeof d.info === 'string' && d.info !== 'INSTANCE_NOT_FOUND') return fail('R-CANCEL', `after a cancelled destroy getInfo raised ${d.info}`, 'destroy');
      if (typeof d.info !== 'string' && d.info.powerState !== 'RUNNING') {
        return fail('R-CANCEL', `destroy cancelled after ${delay} ms left the instance ${d.info.powerState}: it must be gone or as it was (RUNNING)`, 'destroy');
      }
      const gone = await log.call('destroy', [uuid], { ok: true, detail: 'ABSENT' }, () => driver.destroy(uuid));
      session.count('destroy');
      if (!gone.ok) return fail('R-DESTROY-IDEMPOTENT', `destroy retried after its cancellation raised ${gone.code}`, 'destroy');
      alive.delete(uuid);
      await settleAfterDestroy(session);
      const after = usedOf(await driver.getInventory());
      if (!sameUsage(after, baseUsed) && session.caps.eventualConsistency.resourceReleaseMs === 0) {
        return fail('R-INV-RELEASE', `after the cancelled calls and destroy the inventory reads ${show(after)}, before the spawn ${show(baseUsed)} (with the instance ${show(full)})`, 'destroy');
      }
    }
    return { trace: log.trace, violation: undefined };
  } finally {
    for (const uuid of alive) {
      try {
        await driver.destroy(uuid);
        session.count('destroy');
      } catch (error) {
        log.trace.push({ op: 'destroy', args: [uuid], actual: { ok: false, error: errorCode(error) } });
      }
    }
    if (alive.size > 0) await settleAfterDestroy(session);
  }
}
