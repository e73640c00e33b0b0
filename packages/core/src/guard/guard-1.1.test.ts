import { describe, expect, it } from 'vitest';
import { guard } from './guard.js';
import { RecordingDriver } from './test-driver.js';
import { isDriverError } from '../errors/driver-error.js';
import { declareCapabilities } from '../capabilities/driver-capabilities.js';
import { CAPABILITY_CATALOG, CAPABILITY_IDS, type CapabilityId } from '../capabilities/catalog.js';
import { createReferenceDriver } from '../reference/driver.js';
import { expectedOutcome } from '../semantics/oracle.js';
import type { LifecycleEvent } from '../schemas/outputs.js';
import { randomUUID } from 'node:crypto';

const A = '11111111-1111-4111-8111-111111111111';

describe('guard (contract 1.1): a hard reboot or a destroy preempts a hanging soft reboot', () => {
  it('cancels the soft reboot with CANCELLED and runs the hard reboot once the driver let go', async () => {
    const driver = new RecordingDriver();
    driver.supported = ['operation.reboot'];
    const g = guard(driver);
    await g.getCapabilities();
    const soft = g.reboot(A, 'SOFT').then(
      () => 'resolved',
      (e: unknown) => (isDriverError(e) ? e.code : 'other'),
    );
    await new Promise((r) => setTimeout(r, 20));
    await g.reboot(A, 'HARD');
    expect(await soft).toBe('CANCELLED');
    expect(driver.log).toEqual([`start reboot-soft ${A}`, `end reboot-soft ${A}`, `start reboot-hard ${A}`, `end reboot-hard ${A}`]);
  });

  it('a soft reboot does not preempt anything: a second soft reboot waits its turn', async () => {
    const driver = new RecordingDriver();
    driver.supported = ['operation.reboot'];
    const g = guard(driver, { timeouts: { reboot: 100 } });
    await g.getCapabilities();
    const first = g.reboot(A, 'SOFT').catch((e: unknown) => (isDriverError(e) ? e.code : 'other'));
    const second = g.reboot(A, 'SOFT').catch((e: unknown) => (isDriverError(e) ? e.code : 'other'));
    expect(await first).toBe('TIMEOUT');
    expect(await second).toBe('TIMEOUT');
    expect(driver.maxPerKey).toBe(1);
  });
});

describe('guard (contract 1.1): capabilities of a driver built against 1.0', () => {
  const onlyOld = (): ReturnType<typeof declareCapabilities> => {
    const caps = declareCapabilities({ supported: ['operation.pause'] });
    for (const id of CAPABILITY_IDS) if (CAPABILITY_CATALOG[id].since !== '1.0.0') delete (caps.capabilities as Record<string, unknown>)[id];
    return caps;
  };

  it('reads capabilities added after its baseline as missing, so every id is declared to consumers', async () => {
    const driver = new RecordingDriver();
    driver.getCapabilities = async () => onlyOld();
    const caps = await guard(driver, { contractBaseline: '1.0.0' }).getCapabilities();
    const later = CAPABILITY_IDS.filter((id) => CAPABILITY_CATALOG[id].since !== '1.0.0');
    expect(later.length).toBeGreaterThan(0);
    for (const id of later) expect(caps.capabilities[id as CapabilityId]).toEqual({ level: 'missing' });
  });

  it('holds a 1.1 driver to every capability of 1.1: leaving one out is a contract violation', async () => {
    const driver = new RecordingDriver();
    driver.getCapabilities = async () => onlyOld();
    const violations: string[] = [];
    const err = await guard(driver, { contractBaseline: '1.1.0', onViolation: (e) => violations.push(e.message) })
      .getCapabilities()
      .catch((e: unknown) => e);
    expect(isDriverError(err) && err.code).toBe('INTERNAL');
    expect(violations[0]).toContain('operation.restore-state');
  });
});

describe('guard (contract 1.1): event sequence numbers', () => {
  it('numbers each instance\u2019s events 1, 2, 3 per subscription, with the uuid in lower case', async () => {
    const reference = createReferenceDriver();
    const g = guard(reference);
    const events: LifecycleEvent[] = [];
    g.subscribeEvents((e) => events.push(e));
    const uuid = randomUUID().toUpperCase();
    await g.spawn({
      uuid,
      name: 'seq',
      flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 1 },
      image: { id: 'i', diskFormat: 'raw', containerFormat: 'bare' },
    });
    await g.pause(uuid);
    await g.unpause(uuid);
    reference.simulateGuestShutdown(uuid);
    expect(events.map((e) => [e.kind, e.seq, e.cause])).toEqual([
      ['STARTED', 1, 'requested'],
      ['PAUSED', 2, 'requested'],
      ['RESUMED', 3, 'requested'],
      ['STOPPED', 4, 'out-of-band'],
    ]);
    expect(new Set(events.map((e) => e.uuid))).toEqual(new Set([uuid.toLowerCase()]));
  });
});

describe('guard (contract 1.1): restoreState needs the capability of the state it restores', () => {
  const cases: [desired: 'PAUSED' | 'SUSPENDED', capability: CapabilityId][] = [
    ['PAUSED', 'operation.pause'],
    ['SUSPENDED', 'operation.suspend'],
  ];
  for (const [desired, capability] of cases) {
    for (const known of [true, false]) {
      it(`to ${desired} without ${capability}: UNSUPPORTED naming it, the driver not called (capabilities ${known ? 'known' : 'not yet read'})`, async () => {
        const raw = createReferenceDriver({ disabledCapabilities: [capability] });
        const calls: string[] = [];
        raw.restoreState = async (uuid, state) => {
          calls.push(`${uuid} ${state}`);
        };
        const g = guard(raw);
        if (known) await g.getCapabilities();
        const error = await g.restoreState(A, desired).then(() => undefined, (e: unknown) => e);
        expect(isDriverError(error) && error.code).toBe('UNSUPPORTED');
        expect(isDriverError(error) && error.capability).toBe(capability);
        expect(calls).toEqual([]);
        // The other states do not need it: the call reaches the driver.
        await g.restoreState(A, 'RUNNING');
        expect(calls).toEqual([`${A} RUNNING`]);
      });
    }
  }
});

describe('guard (contract 1.1): a driver built against 1.0 keeps the 1.0 table and never sees 1.1 operations', () => {
  const paused = async (baseline: string) => {
    const raw = createReferenceDriver();
    const outcomes: string[] = [];
    // A 1.0 driver deciding its cells with core's expectedOutcome, naming no table.
    raw.reboot = async (_uuid, type) => {
      const o = expectedOutcome('PAUSED', type === 'SOFT' ? 'rebootSoft' : 'rebootHard');
      outcomes.push(o.ok ? `ok -> ${o.to}` : o.error);
      await new Promise((r) => setTimeout(r, 1));
      outcomes.push(expectedOutcome('PAUSED', 'rebootSoft').ok ? 'still 1.0 after an await' : 'INVALID_STATE after an await');
    };
    const g = guard(raw, { contractBaseline: baseline });
    await g.reboot(A, 'SOFT');
    return outcomes;
  };

  it('expectedOutcome inside its calls answers by the 1.0 table (soft reboot of PAUSED ends RUNNING), across awaits', async () => {
    expect(await paused('1.0.0')).toEqual(['ok -> RUNNING', 'still 1.0 after an await']);
  });

  it('a 1.1 driver, and code outside any guarded call, get the 1.1 table', async () => {
    expect(await paused('1.1.0')).toEqual(['INVALID_STATE', 'INVALID_STATE after an await']);
    expect(expectedOutcome('PAUSED', 'rebootSoft').ok).toBe(false);
  });

  it('an operation added after its baseline is UNSUPPORTED without reaching a method of that name, even with the capability gate off', async () => {
    const raw = createReferenceDriver();
    let called = false;
    // A 1.0 driver's own synchronous helper that 1.1 later named an operation.
    (raw as unknown as { listSnapshots: () => unknown[] }).listSnapshots = () => {
      called = true;
      return [];
    };
    const g = guard(raw, { contractBaseline: '1.0.0', enforceCapabilities: false });
    const error = await g.listSnapshots().then(() => undefined, (e: unknown) => e);
    expect(isDriverError(error) && error.code).toBe('UNSUPPORTED');
    expect(called).toBe(false);
  });

  it('a method that returns a plain value (not a promise) is treated as resolved with it', async () => {
    const raw = createReferenceDriver();
    (raw as unknown as { listSnapshots: () => unknown[] }).listSnapshots = () => [];
    expect(await guard(raw).listSnapshots()).toEqual([]);
  });
});
