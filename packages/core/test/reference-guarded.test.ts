import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { guard } from '../src/guard/guard.js';
import type { DriverError } from '../src/errors/driver-error.js';
import { createReferenceDriver } from '../src/testing.js';
import { SEMANTICS } from '../src/semantics/table.js';
import { SEMANTIC_STATES, TABLE_OPERATIONS } from '../src/semantics/states.js';
import { callTableOp, driveTo, observedState, outcomeOf, spec, vif, volume } from './reference-helpers.js';

// The reference driver behind the guard: every table cell still holds, and the guard sees
// no contract violation (outputs valid for the schemas, only allowed error codes, events valid).
describe('guard(reference driver)', () => {
  it('every cell of SEMANTICS holds through the guard, with no contract violation', async () => {
    const violations: DriverError[] = [];
    for (const state of SEMANTIC_STATES) {
      for (const op of TABLE_OPERATIONS) {
        const raw = createReferenceDriver();
        const driver = guard(raw, { onViolation: (e) => violations.push(e) });
        await driver.initHost();
        await driver.getCapabilities();
        driver.subscribeEvents(() => undefined);
        const attachedVolume = randomUUID();
        const attachedVif = randomUUID();
        const s = spec({ networkInfo: [vif(attachedVif)], blockDeviceInfo: { ephemerals: [], volumes: [volume(attachedVolume, 10)] } });
        const uuid = await driveTo(raw, state, s);
        // The helpers take the raw driver's type; the guarded one has the same methods.
        const code = await outcomeOf(() => callTableOp(driver as unknown as typeof raw, op, uuid, { attachedVolume, attachedVif }, spec()));
        const cell = SEMANTICS[state][op];
        const label = `${op} in ${state}`;
        if (cell.kind === 'error') {
          expect(code, label).toBe(cell.error);
          expect(await observedState(raw, uuid), label).toBe(state);
        } else {
          expect(code, label).toBeNull();
          expect(await observedState(raw, uuid), label).toBe(cell.to);
        }
        await driver.getInventory();
        await driver.listNodes();
        await driver.listInstances();
        await driver.cleanupHost();
      }
    }
    expect(violations.map((v) => v.message)).toEqual([]);
  });
});
