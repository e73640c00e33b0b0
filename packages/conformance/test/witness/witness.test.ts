import { describe, expect, it } from 'vitest';
import type { BackendWitness } from '@nova-common/core';
import { createReferenceBackend } from '@nova-common/core/testing';
import { runConformance, type RunResult } from '../../src/index.js';
import { mutant as forgets } from '../mutants/destroy-forgets-machine.js';

const property = (r: RunResult, id: string) => r.properties.find((p) => p.id === id)!;

describe('P-BACKEND-WITNESS: the backend holds exactly what the driver reports', () => {
  it('the reference driver and its simulated backend agree', async () => {
    const backend = createReferenceBackend();
    const r = await runConformance({ driver: () => backend.createDriver(), seed: 21, witness: backend.witness });
    expect(r.summary.failed).toBe(0);
    expect(property(r, 'P-BACKEND-WITNESS').status).toBe('passed');
    expect(await backend.witness.listMachines()).toEqual([]);
  });

  it('a destroy that forgets to kill the machine is a leak, found only on the backend, shrunk to one spawn', async () => {
    const r = await runConformance({ driver: forgets.create, seed: 3, ...forgets.options });
    const failed = r.properties.filter((p) => p.status === 'failed');
    expect(failed.map((p) => p.id), failed.map((p) => `${p.id}: ${p.counterexample?.message}`).join('\n')).toEqual(['P-BACKEND-WITNESS']);
    const cx = property(r, 'P-BACKEND-WITNESS').counterexample!;
    expect(cx.rule).toBe('R-BACKEND-LEAK');
    expect(cx.message).toMatch(/still holds .* \(still running\)/);
    expect(cx.steps.map((s) => s.op)).toEqual(['spawn']);
  });

  it('an instance the driver reports but the backend does not hold is a ghost', async () => {
    const backend = createReferenceBackend();
    // The witness misses every machine spawned with powerOn: false, as if spawn had only recorded it.
    const witness: BackendWitness = {
      async listMachines() {
        return (await backend.witness.listMachines()).filter((m) => m.running === true);
      },
    };
    const r = await runConformance({ driver: () => backend.createDriver(), seed: 8, witness, restart: false });
    const p = property(r, 'P-BACKEND-WITNESS');
    expect(p.status).toBe('failed');
    expect(p.counterexample!.rule).toBe('R-BACKEND-GHOST');
    expect(p.counterexample!.steps.length).toBeLessThanOrEqual(6);
  });

  it('a witness that cannot read the backend fails the property, naming the error', async () => {
    const backend = createReferenceBackend();
    const witness: BackendWitness = { listMachines: () => Promise.reject(new Error('connection refused')) };
    const r = await runConformance({ driver: () => backend.createDriver(), seed: 2, runs: 3, witness, restart: false });
    expect(property(r, 'P-BACKEND-WITNESS').counterexample?.message).toMatch(/the witness could not read the backend: .*connection refused/);
  });
});
