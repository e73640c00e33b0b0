import { createReferenceDriver } from '@nova-common/core/testing';
import { describe, expect, it } from 'vitest';
import { runConformance } from '../src/index.js';
import { plannedDefinitions } from '../src/run/plan-driver.js';
import { formatCounterexample } from '../src/vitest.js';
import { mutant as invalidCaps } from './mutants/capabilities-invalid.js';

// What describeConformance turns into tests, read while vitest collects the suite.
describe('describeConformance planning', () => {
  it('plans every applicable property of a correct driver, P-HOST-DESCRIPTION first', async () => {
    const ids = (await plannedDefinitions(() => createReferenceDriver())).map((d) => d.id);
    expect(ids[0]).toBe('P-HOST-DESCRIPTION');
    expect(ids).toContain('P-MODEL-SEQUENCES');
    expect(ids).toContain('P-CANCEL');
    expect(ids).not.toContain('P-UNSUPPORTED-operation.pause');
  });

  it('plans P-HOST-DESCRIPTION alone for a driver whose capability declaration is invalid, and the run fails it with its rule', async () => {
    const defs = await plannedDefinitions(invalidCaps.create);
    expect(defs.map((d) => d.id)).toEqual(['P-HOST-DESCRIPTION']);
    // The test describeConformance makes for it fails with the counterexample, not a collection error.
    const result = await runConformance({ driver: invalidCaps.create, seed: 5, name: 'invalid caps' });
    const p = result.properties.find((x) => x.id === 'P-HOST-DESCRIPTION')!;
    expect(p.status).toBe('failed');
    const message = formatCounterexample(p, p.counterexample!);
    expect(message).toContain('rule: R-GEN-OUTPUT');
    expect(message).toContain('getCapabilities');
  });

  it('still throws, naming the cause, when the driver cannot be created at all', async () => {
    await expect(
      plannedDefinitions(() => {
        throw new Error('no such socket: /run/nowhere.sock');
      }),
    ).rejects.toThrow(/no such socket/);
  });
});
