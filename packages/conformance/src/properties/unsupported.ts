import { OPERATION_NAMES, OPERATIONS, capabilitiesOfCall, supports, type CapabilityId, type DriverCapabilities, type InstanceSpecInput, type OperationName, type RuleId } from '@nova-common/core';
import type { ResolvedOptions } from '../config.js';
import { makeCall } from '../commands/arguments.js';
import { SEQUENCE_OPS, callArgs, invoke, shapeOf, type Call, type SequenceOp } from '../commands/call.js';
import { FixedSource } from '../commands/sources.js';
import { errorFieldsProblem, usedOf } from '../run/compare.js';
import type { Session } from '../run/session.js';
import { errorCode } from '../run/session.js';
import { Violation } from '../run/violation.js';
import { unsupportedPropertyId } from './catalog.js';
import { infoSnapshot, sampleSpec, sampleUuid, settleAfterDestroy, StepLog } from '../run/fixed.js';

/** A call of `op` with valid arguments on `uuid` (UNSUPPORTED must come before any other check), or undefined for an operation without arguments. */
export async function sampleCall(op: OperationName, uuid: string, options: ResolvedOptions, salt: number): Promise<Call | undefined> {
  if (!(SEQUENCE_OPS as readonly string[]).includes(op) || shapeOf(op).spec >= 0) return undefined;
  const source = new FixedSource({ purpose: 'unsupported', uuid, volume: sampleUuid(options, salt + 1), vif: { id: sampleUuid(options, salt + 2), address: 'fa:16:3e:7f:00:01' } }, options);
  return makeCall(op as SequenceOp, uuid, source);
}

/** The migration a missing capability forbids: operation.migrate any, the other two a kind or a place. */
const MIGRATION_VARIANTS: Partial<Record<CapabilityId, { kind: 'LIVE' | 'COLD'; sameHost: boolean }>> = {
  'operation.migrate': { kind: 'COLD', sameHost: false },
  'operation.live-migrate': { kind: 'LIVE', sameHost: false },
  'operation.resize-in-place': { kind: 'COLD', sameHost: true },
};

/** The operations a missing capability forbids: those it gates, or for a kind of migration the two calls that name the kind. */
function forbiddenOperations(capability: CapabilityId): OperationName[] {
  const gated = OPERATION_NAMES.filter((op) => OPERATIONS[op].capability === capability);
  return gated.length === 0 && capability in MIGRATION_VARIANTS ? ['prepareMigration', 'migrate'] : gated;
}

/**
 * Valid arguments of a migration operation on `uuid`, as a caller sends them. The command
 * sequences never make these calls (they need a second host), so they are written here.
 */
function sampleMigrationArgs(op: OperationName, uuid: string, spec: InstanceSpecInput, capability: CapabilityId, migrationId: string): unknown[] {
  const { kind, sameHost } = MIGRATION_VARIANTS[capability] ?? { kind: 'COLD', sameHost: false };
  if (op === 'prepareMigration') return [{ migrationId, kind, sourceDriver: 'sample-driver', sameHost, instance: { ...spec, uuid } }];
  if (op === 'migrate') {
    return [uuid, { migrationId, kind, driver: 'sample-driver', instanceUuid: uuid, node: 'sample-node', flavor: spec.flavor, sameHost, address: 'sample-address' }];
  }
  return [migrationId];
}

/**
 * The capability an UNSUPPORTED error must name: the one the property checks, or, for a call
 * that needs several (a LIVE migration needs operation.migrate and operation.live-migrate), any
 * of those the driver declares missing: each is a true reason.
 */
function namedCapability(error: unknown, op: OperationName, args: readonly unknown[], checked: CapabilityId, caps: DriverCapabilities): CapabilityId {
  const named = (error as { capability?: unknown }).capability;
  const reasons = capabilitiesOfCall(op, args).filter((c) => !supports(caps, c));
  return reasons.includes(named as CapabilityId) ? (named as CapabilityId) : checked;
}

export interface FixedOutcome {
  trace: StepLog['trace'];
  violation: Violation | undefined;
}

/**
 * P-UNSUPPORTED-<capability>: every operation of a capability declared missing, on an
 * existing instance and on an unknown uuid, must reject with UNSUPPORTED and change nothing.
 */
export async function checkUnsupported(session: Session, options: ResolvedOptions, capability: CapabilityId, salt: number): Promise<FixedOutcome> {
  const id = unsupportedPropertyId(capability);
  const log = new StepLog();
  const driver = session.driver;
  const uuid = sampleUuid(options, salt);
  const missing = sampleUuid(options, salt + 100);
  const spec = sampleSpec(options, uuid, salt);
  const fail = (rule: RuleId, message: string, key?: string): Violation => new Violation(id, rule, message, key);
  let violation: Violation | undefined;
  const spawned = await log.call('spawn', [spec], { ok: true, detail: 'RUNNING' }, () => driver.spawn(options.adaptSpec(spec)));
  session.count('spawn');
  try {
    if (!spawned.ok) return { trace: log.trace, violation: fail('R-SPAWN-ABSENT', `precondition: spawn failed with ${spawned.code}`, 'spawn') };
    session.known.add(uuid);
    const state = async (): Promise<string> => {
      const [info, list, inv] = await Promise.all([infoSnapshot(driver, uuid), driver.listInstances(), driver.getInventory()]);
      return JSON.stringify([info, list.map((s) => s.uuid.toLowerCase()).sort(), usedOf(inv)]);
    };
    const before = await state();
    if (capability === 'event.lifecycle') {
      const r = await log.call('subscribeEvents', ['<listener>'], { ok: false, error: 'UNSUPPORTED' }, async () => driver.subscribeEvents(() => {}));
      if (r.ok) {
        r.value();
        violation = fail('R-GEN-UNSUPPORTED', 'subscribeEvents succeeded although event.lifecycle is declared missing', 'subscribeEvents');
      } else if (r.code !== 'UNSUPPORTED') {
        violation = fail('R-GEN-UNSUPPORTED', `subscribeEvents raised ${r.code}, expected UNSUPPORTED`, 'subscribeEvents');
      } else {
        const p = errorFieldsProblem(r.error, { capability });
        if (p) violation = new Violation(id, p.rule, `subscribeEvents: ${p.message}`, 'subscribeEvents', p.expected, p.actual);
      }
      return { trace: log.trace, violation };
    }
    for (const op of forbiddenOperations(capability)) {
      // On an existing instance and on an unknown uuid (once for an operation without an instance).
      for (const target of shapeOf(op).instance >= 0 || op === 'prepareMigration' ? [uuid, missing] : [uuid]) {
        const peer = OPERATIONS[op].peer !== null;
        const call = peer ? undefined : await sampleCall(op, target, options, salt);
        const args = peer ? sampleMigrationArgs(op, target, spec, capability, sampleUuid(options, salt + 200)) : call === undefined ? [] : callArgs(call);
        const r = await log.call(op, args, { ok: false, error: 'UNSUPPORTED' }, () => (call === undefined ? driver.call(op, args) : invoke(driver, call, args, options.simulate)));
        session.count(op);
        if (r.ok || r.code !== 'UNSUPPORTED') {
          violation = fail('R-GEN-UNSUPPORTED', `${op}(${target === uuid ? 'existing instance' : 'unknown uuid'}) ${r.ok ? 'succeeded' : `raised ${r.code}`} although ${capability} is declared missing; expected UNSUPPORTED`, op);
          return { trace: log.trace, violation };
        }
        const p = errorFieldsProblem(r.error, { capability: namedCapability(r.error, op, args, capability, session.caps) });
        if (p) {
          violation = new Violation(id, p.rule, `${op}(${target === uuid ? 'existing instance' : 'unknown uuid'}): ${p.message}`, op, p.expected, p.actual);
          return { trace: log.trace, violation };
        }
        const after = await state();
        if (after !== before) {
          violation = fail('R-GEN-UNSUPPORTED', `${op} raised UNSUPPORTED but changed the instance, the list or the inventory:\nbefore ${before}\nafter  ${after}`, op);
          return { trace: log.trace, violation };
        }
      }
    }
    return { trace: log.trace, violation };
  } finally {
    if (spawned.ok) {
      try {
        await driver.destroy(uuid);
        session.count('destroy');
        await settleAfterDestroy(session);
      } catch (error) {
        violation ??= fail('R-DESTROY-IDEMPOTENT', `cleanup: destroy failed with ${errorCode(error)}`, 'destroy');
      }
    }
  }
}
