import { OPERATION_NAMES, OPERATIONS, type CapabilityId, type OperationName } from '@nova-common/core';
import type { ResolvedOptions } from '../config.js';
import { callArgs, invoke, type Call } from '../commands/call.js';
import { usedOf } from '../run/observe.js';
import type { Session } from '../run/session.js';
import { errorCode } from '../run/session.js';
import { Violation } from '../run/violation.js';
import { infoSnapshot, sampleSpec, sampleUuid, settleAfterDestroy, StepLog } from '../run/fixed.js';

/** A call of `op` with valid arguments on `uuid` (UNSUPPORTED must come before any other check). */
export async function sampleCall(op: OperationName, uuid: string, options: ResolvedOptions, salt: number): Promise<Call | undefined> {
  const image = options.images[0]!;
  switch (op) {
    case 'powerOff':
      return { op, uuid, gracefulTimeoutMs: 0 };
    case 'powerOn':
    case 'pause':
    case 'unpause':
    case 'suspend':
    case 'resume':
    case 'unrescue':
    case 'getConsoleOutput':
      return { op, uuid };
    case 'reboot':
      return { op, uuid, type: 'SOFT' };
    case 'rescue':
      return { op, uuid, spec: { image } };
    case 'rebuild':
      return { op, uuid, spec: { image } };
    case 'snapshot':
      return { op, uuid, name: `${options.runId}-snap-unsupported` };
    case 'deleteSnapshot':
      return { op, image: { id: `${options.runId}-no-such-image` } };
    case 'attachVolume': {
      const volumeId = sampleUuid(options, salt + 1);
      return { op, uuid, attachment: { volumeId, sizeGb: 1, deleteOnTermination: false, connectionInfo: await options.volumeConnection(volumeId) } };
    }
    case 'detachVolume':
      return { op, uuid, volumeId: sampleUuid(options, salt + 1) };
    case 'extendVolume':
      return { op, uuid, volumeId: sampleUuid(options, salt + 1), newSizeGb: 2 };
    case 'attachInterface':
      return { op, uuid, vif: { id: sampleUuid(options, salt + 2), address: 'fa:16:3e:7f:00:01', network: { id: 'nova-conformance-net' } } };
    case 'detachInterface':
      return { op, uuid, vifId: sampleUuid(options, salt + 2) };
    default:
      return undefined;
  }
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
  const id = `P-UNSUPPORTED-${capability}`;
  const log = new StepLog();
  const driver = session.driver;
  const uuid = sampleUuid(options, salt);
  const missing = sampleUuid(options, salt + 100);
  const spec = sampleSpec(options, uuid, salt);
  const fail = (rule: string, message: string, key?: string): Violation => new Violation(id, rule, message, key);
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
      }
      return { trace: log.trace, violation };
    }
    const ops = OPERATION_NAMES.filter((op) => OPERATIONS[op].capability === capability);
    for (const op of ops) {
      for (const target of op === 'deleteSnapshot' ? [uuid] : [uuid, missing]) {
        const call = await sampleCall(op, target, options, salt);
        if (!call) continue;
        const r = await log.call(op, callArgs(call), { ok: false, error: 'UNSUPPORTED' }, () => invoke(driver, call, [], options.simulate, undefined));
        session.count(op);
        if (r.ok || r.code !== 'UNSUPPORTED') {
          violation = fail('R-GEN-UNSUPPORTED', `${op}(${target === uuid ? 'existing instance' : 'unknown uuid'}) ${r.ok ? 'succeeded' : `raised ${r.code}`} although ${capability} is declared missing; expected UNSUPPORTED`, op);
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
