import { describe, expect, it } from 'vitest';
import { OPERATION_NAMES, OPERATIONS, type CapabilityId, type DriverCapabilities } from '@nova-common/core';
import { createReferenceDriver } from '@nova-common/core/testing';
import { runConformance } from '../../src/run/run-conformance.js';
import { computeMatrix, exerciseOf } from '../../src/run/matrix-status.js';
import type { PropertyResult } from '../../src/result.js';
import { mutant as pauseMutant } from '../mutants/pause-does-not-pause.js';

const caps = (): Promise<DriverCapabilities> => createReferenceDriver().getCapabilities();

function prop(id: string, status: PropertyResult['status'], capabilities: CapabilityId[]): PropertyResult {
  return { id: id as PropertyResult['id'], title: id, since: '1.0.0', rules: [], capabilities, status, runs: 1, steps: 1, durationMs: 1 };
}

/** Every operation called once, except `except`. */
function calls(except: string[] = []): Map<string, number> {
  return new Map(OPERATION_NAMES.filter((op) => !except.includes(op)).map((op) => [op, 1]));
}

describe('the support matrix status of a capability', () => {
  it('is unknown, naming what was never called, when one of its operations (a table column) was never called', async () => {
    const c = await caps();
    const e = exerciseOf(calls(['unrescue']), new Set());
    expect(e.touched.has('operation.rescue')).toBe(true);
    expect(e.exercised.has('operation.rescue')).toBe(false);
    const m = computeMatrix(c, [prop('P-MODEL-SEQUENCES', 'passed', ['operation.rescue', 'operation.pause'])], new Map(), e.exercised, e.touched, e.notCalled);
    expect(m.find((x) => x.id === 'operation.rescue')).toMatchObject({ status: 'unknown', notes: 'declared, but this run never called unrescue' });
    expect(m.find((x) => x.id === 'operation.pause')?.status).toBe('complete');
  });

  it('is partial for every capability a failed property exercised, not only where it failed', async () => {
    const c = await caps();
    const e = exerciseOf(calls(), new Set());
    const properties = [prop('P-MODEL-SEQUENCES', 'failed', ['operation.pause', 'operation.reboot']), prop('P-IDEMPOTENT-REPEAT', 'passed', ['operation.pause', 'operation.reboot'])];
    const m = computeMatrix(c, properties, new Map([['operation.pause', ['P-MODEL-SEQUENCES']]]), e.exercised, e.touched, e.notCalled);
    expect(m.find((x) => x.id === 'operation.pause')).toMatchObject({ status: 'partial', notes: 'failed: P-MODEL-SEQUENCES' });
    const reboot = m.find((x) => x.id === 'operation.reboot')!;
    expect(reboot.status).toBe('partial');
    expect(reboot.notes).toContain('P-MODEL-SEQUENCES failed elsewhere and also exercised this capability');
  });

  it('is unknown, not partial, for a capability a failed property lists but never called', async () => {
    const c = await caps();
    const e = exerciseOf(calls(OPERATION_NAMES.filter((op) => OPERATIONS[op].capability === 'operation.rebuild')), new Set());
    const m = computeMatrix(c, [prop('P-MODEL-SEQUENCES', 'failed', ['operation.rebuild'])], new Map(), e.exercised, e.touched, e.notCalled);
    expect(m.find((x) => x.id === 'operation.rebuild')?.status).toBe('unknown');
  });

  it('is complete only with every operation called and every exercising property passed', async () => {
    const c = await caps();
    const e = exerciseOf(calls(), new Set(['storage.image', 'event.lifecycle'] as CapabilityId[]));
    const m = computeMatrix(c, [prop('P-MODEL-SEQUENCES', 'passed', ['operation.pause', 'storage.image']), prop('P-EVENTS', 'passed', ['event.lifecycle'])], new Map(), e.exercised, e.touched, e.notCalled);
    for (const id of ['operation.pause', 'storage.image', 'event.lifecycle']) expect(m.find((x) => x.id === id)?.status, id).toBe('complete');
  });
});

describe('a run against a driver with one bug', () => {
  it('never shows a capability complete beside a failed property among its evidence', async () => {
    const r = await runConformance({ driver: pauseMutant.create, seed: 5 });
    const failed = new Set(r.properties.filter((p) => p.status === 'failed').map((p) => p.id));
    expect(failed.size).toBeGreaterThan(0);
    expect(r.capabilities.find((c) => c.id === 'operation.pause')?.status).toBe('partial');
    for (const c of r.capabilities) {
      if (c.status === 'complete') expect(c.evidence.filter((id) => failed.has(id as never)), c.id).toEqual([]);
    }
  });
});
