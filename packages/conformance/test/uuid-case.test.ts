import { describe, expect, it } from 'vitest';
import { DriverError, InstanceSpecSchema, OPERATIONS, OPERATION_NAMES, type ComputeDriver, type GuardedDriver, type InstanceSpec, type LifecycleListener } from '@nova-common/core';
import { runConformance } from '../src/index.js';
import { resolveOptions } from '../src/config.js';
import { caseOf } from '../src/commands/variety.js';
import { Model } from '../src/model/model.js';
import { newContext } from '../src/run/context.js';
import { execute } from '../src/run/executor.js';
import { Session } from '../src/run/session.js';
import { isViolation } from '../src/run/violation.js';
import { poolUuid } from '../src/model/arbitraries.js';
import { mutate } from './mutants/_mutant.js';

/**
 * A driver that keys its instances by the uuid exactly as written (case-sensitive), on top of
 * the reference driver (which sees a uuid of its own per instance). It records every uuid it
 * is handed.
 */
function keyedAsWritten(received: string[]): ComputeDriver {
  const written = new Map<string, string>();
  const back = new Map<string, string>();
  let next = 0;
  const internal = (uuid: string, op: string): string => {
    received.push(uuid);
    const id = written.get(uuid);
    if (id === undefined) throw new DriverError('INSTANCE_NOT_FOUND', { op, target: uuid });
    return id;
  };
  return mutate({}, (inner) => {
    const overrides: Record<string, (...args: any[]) => any> = {};
    for (const op of OPERATION_NAMES) {
      if ((OPERATIONS[op].args as readonly { role: string }[])[0]?.role !== 'instance') continue;
      overrides[op] = async (uuid: string, ...rest: unknown[]) => {
        if (op === 'destroy' && !written.has(uuid)) return received.push(uuid);
        const result = await (inner[op] as (...a: unknown[]) => Promise<unknown>).call(inner, internal(uuid, op), ...rest);
        if (op === 'destroy') {
          back.delete(written.get(uuid)!);
          written.delete(uuid);
        }
        return op === 'getInfo' ? { ...(result as object), uuid } : result;
      };
    }
    overrides.spawn = async (spec: InstanceSpec, options?: unknown) => {
      received.push(spec.uuid);
      if (written.has(spec.uuid)) throw new DriverError('INSTANCE_EXISTS', { op: 'spawn', target: spec.uuid });
      const id = poolUuid(4242, next++);
      written.set(spec.uuid, id);
      back.set(id, spec.uuid);
      try {
        await inner.spawn({ ...spec, uuid: id }, options as undefined);
      } catch (error) {
        written.delete(spec.uuid);
        throw error;
      }
    };
    overrides.listInstances = async () => (await inner.listInstances()).map((s) => ({ ...s, uuid: back.get(s.uuid) ?? s.uuid }));
    overrides.subscribeEvents = (listener: LifecycleListener) => inner.subscribeEvents((e) => listener({ ...e, uuid: back.get(e.uuid) ?? e.uuid }));
    return overrides;
  });
}

/** The driver's methods called with the arguments exactly as given: no guard in between. */
function unguarded(raw: ComputeDriver): GuardedDriver {
  const methods = raw as unknown as Record<string, (...a: unknown[]) => unknown>;
  return new Proxy(raw, {
    get: (target, p) => {
      if (p === 'raw') return target;
      if (p === 'call') return (op: string, args: unknown[], options?: unknown) => methods[op]!.call(target, ...args, options);
      const value = (target as unknown as Record<string | symbol, unknown>)[p];
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as unknown as GuardedDriver;
}

describe('uuids in any letter case', () => {
  it('writes a uuid in lower, upper and mixed case', () => {
    const uuid = poolUuid(1, 0);
    expect(caseOf(uuid, 0)).toBe(uuid);
    expect(caseOf(uuid, 1)).toBe(uuid.toUpperCase());
    const mixed = caseOf(uuid, 2);
    expect(mixed.toLowerCase()).toBe(uuid);
    expect(mixed).not.toBe(uuid);
    expect(mixed).not.toBe(uuid.toUpperCase());
  });

  it('the default run spawns and calls with uuids in other cases; behind the guard, a driver keyed by the uuid as written is one instance whatever the case', async () => {
    const received: string[] = [];
    const sent: string[] = [];
    const r = await runConformance({
      driver: () => keyedAsWritten(received),
      seed: 7,
      name: 'keyed-as-written',
      adaptSpec: (spec) => {
        sent.push(spec.uuid);
        return spec;
      },
    });
    expect(sent.some((u) => u !== u.toLowerCase()), sent.slice(0, 20).join(' ')).toBe(true);
    expect(received.length).toBeGreaterThan(100);
    // The guard lower-cases every uuid it hands a driver (contract: a UUID's value has no case).
    expect(received.filter((u) => u !== u.toLowerCase())).toEqual([]);
    expect(r.summary.failed, JSON.stringify(r.properties.filter((p) => p.status === 'failed').map((p) => p.counterexample?.message))).toBe(0);
  });

  it('reached with the uuid as written, a driver keyed case-sensitively is caught: a spawn in another case must meet INSTANCE_EXISTS', async () => {
    const options = resolveOptions({ seed: 11 });
    const session = await Session.open(keyedAsWritten([]), options);
    Object.defineProperty(session, 'driver', { value: unguarded(session.raw) });
    try {
      const model = new Model(await session.baseline(), options.settleTimeoutMs);
      const ctx = newContext(session, model, options, new Set());
      const uuid = poolUuid(99, 0);
      // What the guard would hand on (defaults applied), but with the uuid as written.
      const spec = InstanceSpecSchema.parse({ uuid, name: `${options.runId}-case`, flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 0 }, image: options.images[0]! });
      await execute(ctx, { op: 'spawn', spec });
      const caught = await execute(ctx, { op: 'spawn', spec: { ...spec, uuid: uuid.toUpperCase() } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isViolation(caught)).toBe(true);
      expect((caught as Error).message).toMatch(/expected INSTANCE_EXISTS, got success/);
    } finally {
      await session.close();
    }
  });
});
