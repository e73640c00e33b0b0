import { describe, expect, it } from 'vitest';
import type { ComputeDriver } from '@nova-common/core';
import { createReferenceBackend, createReferenceDriver, type ReferenceDriver } from '@nova-common/core/testing';
import { runConformance, type RunResult, type SimulationHooks } from '../../src/index.js';
import { mutant as inMemory } from '../mutants/instances-in-memory.js';

const simulate: SimulationHooks = {
  crash: (d: ComputeDriver, uuid: string) => (d as ReferenceDriver).simulateCrash(uuid),
  noState: (d: ComputeDriver, uuid: string) => (d as ReferenceDriver).simulateNoState(uuid),
};

const property = (r: RunResult, id: string) => r.properties.find((p) => p.id === id)!;
const failures = (r: RunResult): string =>
  r.properties
    .filter((p) => p.status === 'failed')
    .map((p) => `${p.id}: ${p.counterexample?.message}`)
    .join('\n');

describe('P-RESTART: a new driver object sees what the previous one left', () => {
  for (const seed of [3, 4242]) {
    it(`the reference driver over a backend that outlives its driver objects passes (seed ${seed})`, async () => {
      const backend = createReferenceBackend();
      const r = await runConformance({ driver: () => backend.createDriver(), seed, simulate, restart: true });
      expect(r.summary.failed, failures(r)).toBe(0);
      const restart = property(r, 'P-RESTART');
      expect(restart.status).toBe('passed');
      expect(restart.rules).toContain('R-RESTART-SAME');
    });
  }

  it('with a witness, restart is on by default; the bare-metal-like reference passes with cleaning delays', async () => {
    const backend = createReferenceBackend({ nodes: 3, releaseDelayMs: 10 });
    const r = await runConformance({ driver: () => backend.createDriver(), seed: 77, witness: backend.witness });
    expect(r.summary.failed, failures(r)).toBe(0);
    expect(property(r, 'P-RESTART').status).toBe('passed');
    expect(property(r, 'P-BACKEND-WITNESS').status).toBe('passed');
  });

  it('a driver whose instances live in its object\'s memory fails, shrunk to one spawn, citing R-RESTART-SAME', async () => {
    const r = await runConformance({ driver: inMemory.create, seed: 11, ...inMemory.options });
    const p = property(r, 'P-RESTART');
    expect(p.status).toBe('failed');
    expect(p.counterexample!.rule).toBe('R-RESTART-SAME');
    expect(p.counterexample!.message).toMatch(/after a restart .*listInstances no longer reports/);
    expect(p.counterexample!.steps.map((s) => s.op)).toEqual(['spawn']);
    // The program restarts too: it stops the driver, makes a new one the same way and compares the lists.
    const program = p.counterexample!.program;
    expect(program).toContain('await driver.cleanupHost();\n  {');
    expect(program).toContain('const again = guard(raw, { enforceCapabilities: false });');
    expect(program).toContain("'a new driver object lists what the previous one listed'");
  });

  it('is skipped, saying why, for a private in-memory host without a witness, and for a driver instance', async () => {
    const r = await runConformance({ driver: () => createReferenceDriver(), seed: 5, runs: 2 });
    expect(property(r, 'P-RESTART').status).toBe('skipped');
    expect(property(r, 'P-RESTART').reason).toMatch(/needs a driver factory, and a witness or restart: true/);
    const backend = createReferenceBackend();
    const one = await runConformance({ driver: backend.createDriver(), seed: 5, runs: 2, witness: backend.witness });
    expect(property(one, 'P-RESTART').status).toBe('skipped');
    expect(property(one, 'P-BACKEND-WITNESS').status).toBe('passed');
  });
});
