import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { guard } from './guard.js';
import { RecordingDriver } from './test-driver.js';
import { DriverError, isDriverError } from '../errors/driver-error.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const C = '33333333-3333-4333-8333-333333333333';

async function rejection(p: Promise<unknown>): Promise<DriverError> {
  try {
    await p;
  } catch (e) {
    if (isDriverError(e)) return e;
    throw new Error(`expected a DriverError, got ${String(e)}`);
  }
  throw new Error('expected the call to reject');
}

describe('guard: serialisation', () => {
  it('serialises calls on the same instance and runs different instances in parallel (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ target: fc.constantFrom(A, B, C), op: fc.constantFrom('pause', 'getInfo', 'destroy') }), {
          minLength: 2,
          maxLength: 12,
        }),
        async (calls) => {
          const driver = new RecordingDriver();
          driver.delayMs = 2;
          const g = guard(driver);
          await Promise.all(
            calls.map((c) => (c.op === 'pause' ? g.pause(c.target) : c.op === 'getInfo' ? g.getInfo(c.target) : g.destroy(c.target))),
          );
          expect(driver.maxPerKey).toBe(1);
          const distinct = new Set(calls.map((c) => c.target)).size;
          expect(driver.maxOverall).toBe(distinct);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('keeps the order of calls on one instance', async () => {
    const driver = new RecordingDriver();
    const g = guard(driver);
    await Promise.all([g.pause(A), g.destroy(A), g.getInfo(A)]);
    expect(driver.log).toEqual([`start pause ${A}`, `end pause ${A}`, `start destroy ${A}`, `end destroy ${A}`, `start getInfo ${A}`, `end getInfo ${A}`]);
  });

  it('a failing call does not block the next one on the same instance', async () => {
    const driver = new RecordingDriver();
    driver.behaviour = (op) => (op === 'pause' ? new Error('boom') : undefined);
    const g = guard(driver);
    const [first, second] = await Promise.allSettled([g.pause(A), g.getInfo(A)]);
    expect(first.status).toBe('rejected');
    expect(second.status).toBe('fulfilled');
  });
});

describe('guard: errors', () => {
  it('turns a non-contract exception into INTERNAL and keeps the cause', async () => {
    const driver = new RecordingDriver();
    const boom = new TypeError('undefined is not a function');
    driver.behaviour = () => boom;
    const err = await rejection(guard(driver).pause(A));
    expect(err.code).toBe('INTERNAL');
    expect(err.op).toBe('pause');
    expect(err.cause).toBe(boom);
    expect(err.message).toContain('undefined is not a function');
  });

  it('passes contract errors through with the operation filled in', async () => {
    const driver = new RecordingDriver();
    driver.behaviour = () => new DriverError('INVALID_STATE', { target: A, currentState: 'SHUTDOWN' });
    const err = await rejection(guard(driver).pause(A));
    expect(err.code).toBe('INVALID_STATE');
    expect(err.op).toBe('pause');
    expect(err.currentState).toBe('SHUTDOWN');
  });

  it('reports an error code the operation may not raise as a contract violation', async () => {
    const driver = new RecordingDriver();
    driver.behaviour = () => new DriverError('VOLUME_NOT_ATTACHED');
    const violations: DriverError[] = [];
    const err = await rejection(guard(driver, { onViolation: (e) => violations.push(e) }).pause(A));
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toContain('pause may not raise VOLUME_NOT_ATTACHED');
    expect(violations).toHaveLength(1);
  });

  it('rejects invalid output from the driver with INTERNAL', async () => {
    const driver = new RecordingDriver();
    driver.behaviour = (op, uuid) => (op === 'getInfo' ? { uuid, powerState: 'FLYING' } : undefined);
    const err = await rejection(guard(driver).getInfo(A));
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toContain('powerState');
  });

  it('rejects getInfo answering for another instance', async () => {
    const driver = new RecordingDriver();
    driver.behaviour = (op) =>
      op === 'getInfo'
        ? { uuid: B, name: 'x', powerState: 'RUNNING', mode: 'normal', node: 'n', metadata: {}, volumes: [], interfaces: [] }
        : undefined;
    const err = await rejection(guard(driver).getInfo(A));
    expect(err.code).toBe('INTERNAL');
  });
});

describe('guard: inputs', () => {
  it('refuses an invalid uuid with INVALID_INPUT naming the argument, before the driver is called', async () => {
    const driver = new RecordingDriver();
    const err = await rejection(guard(driver).pause('not-a-uuid'));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.issues?.[0]?.path).toEqual(['uuid']);
    expect(driver.log).toEqual([]);
  });

  it('refuses an invalid spec naming the nested field path', async () => {
    const driver = new RecordingDriver();
    const err = await rejection(
      guard(driver).spawn({
        uuid: A,
        name: 'vm',
        flavor: { id: 'f', name: 'f', vcpus: 0, memoryMb: 64, rootGb: 1 },
        image: { id: 'img', diskFormat: 'qcow2', containerFormat: 'bare' },
      }),
    );
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.issues?.map((i) => i.path.join('.'))).toContain('spec.flavor.vcpus');
  });
});

describe('guard: capabilities', () => {
  it('refuses an operation declared missing without calling the driver', async () => {
    const driver = new RecordingDriver();
    driver.supported = [];
    const err = await rejection(guard(driver).pause(A));
    expect(err.code).toBe('UNSUPPORTED');
    expect(err.capability).toBe('operation.pause');
    expect(driver.log).toEqual([]);
  });

  it('with enforcement off, calls the driver so its own answer can be checked', async () => {
    const driver = new RecordingDriver();
    driver.supported = [];
    await guard(driver, { enforceCapabilities: false }).pause(A);
    expect(driver.log).toContain(`start pause ${A}`);
  });

  it('an optional operation the driver does not implement is UNSUPPORTED', async () => {
    const driver = new RecordingDriver();
    const err = await rejection(guard(driver, { enforceCapabilities: false }).suspend(A));
    expect(err.code).toBe('UNSUPPORTED');
    expect(err.capability).toBe('operation.suspend');
  });
});

describe('guard: timeouts, cancellation and retries', () => {
  it('times out with TIMEOUT and keeps the instance locked until the driver finishes', async () => {
    const driver = new RecordingDriver();
    driver.delayMs = 80;
    const g = guard(driver, { timeouts: { pause: 10 } });
    const err = await rejection(g.pause(A));
    expect(err.code).toBe('TIMEOUT');
    await g.getInfo(A);
    expect(driver.maxPerKey).toBe(1);
  });

  it('a caller abort rejects with CANCELLED and the driver sees the signal', async () => {
    const driver = new RecordingDriver();
    driver.delayMs = 1000;
    const controller = new AbortController();
    const pending = guard(driver).pause(A, { signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    const err = await rejection(pending);
    expect(err.code).toBe('CANCELLED');
  });

  it('an already aborted signal never reaches the driver', async () => {
    const driver = new RecordingDriver();
    const err = await rejection(guard(driver).pause(A, { signal: AbortSignal.abort() }));
    expect(err.code).toBe('CANCELLED');
    expect(driver.log).toEqual([]);
  });

  it('retries nothing by default: the backend client is the one retry layer', async () => {
    const driver = new RecordingDriver();
    driver.behaviour = () => new DriverError('CONFLICT');
    const err = await rejection(guard(driver).pause(A));
    expect(err.code).toBe('CONFLICT');
    expect(driver.log.filter((l) => l.startsWith('start'))).toHaveLength(1);
  });

  it('retries CONFLICT with backoff when asked, then succeeds', async () => {
    const driver = new RecordingDriver();
    let failures = 2;
    driver.behaviour = () => (failures-- > 0 ? new DriverError('CONFLICT') : undefined);
    await guard(driver, { retry: { attempts: 3, baseDelayMs: 1 } }).pause(A);
    expect(driver.log.filter((l) => l.startsWith('start'))).toHaveLength(3);
  });

  it('does not retry BACKEND_UNAVAILABLE unless asked, and never for non-idempotent operations', async () => {
    const driver = new RecordingDriver();
    driver.behaviour = () => new DriverError('BACKEND_UNAVAILABLE');
    const err = await rejection(guard(driver, { retry: { attempts: 3, baseDelayMs: 1 } }).pause(A));
    expect(err.code).toBe('BACKEND_UNAVAILABLE');
    expect(driver.log.filter((l) => l.startsWith('start'))).toHaveLength(1);
  });

  it('gives up after the configured attempts', async () => {
    const driver = new RecordingDriver();
    driver.behaviour = () => new DriverError('CONFLICT');
    const err = await rejection(guard(driver, { retry: { attempts: 2, baseDelayMs: 1 } }).pause(A));
    expect(err.code).toBe('CONFLICT');
    expect(err.retryable).toBe(true);
    expect(driver.log.filter((l) => l.startsWith('start'))).toHaveLength(3);
  });
});

describe('guard: reserved keys', () => {
  it('refuses an own __proto__ key anywhere in an input, naming its path', async () => {
    const driver = new RecordingDriver();
    const spec = JSON.parse(
      `{"uuid":"${A}","name":"vm","metadata":{"__proto__":"x"},"flavor":{"id":"f","name":"f","vcpus":1,"memoryMb":64,"rootGb":1},"image":{"id":"i","diskFormat":"raw","containerFormat":"bare"}}`,
    );
    const err = await rejection(guard(driver).spawn(spec));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.issues?.[0]?.path).toEqual(['spec', 'metadata', '__proto__']);
  });

  it('accepts uuids in every form the schema accepts, and refuses the rest (property)', async () => {
    const driver = new RecordingDriver();
    const g = guard(driver);
    const { UuidSchema } = await import('../schemas/common.js');
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uuid(), fc.string({ maxLength: 40 }), fc.constant('00000000-0000-0000-0000-000000000000')), async (value) => {
        const valid = UuidSchema.safeParse(value).success;
        const outcome = await g.getInfo(value).then(
          () => 'ok',
          (e: DriverError) => e.code,
        );
        expect(outcome).toBe(valid ? 'ok' : 'INVALID_INPUT');
      }),
      { numRuns: 200 },
    );
  });
});
