import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createReferenceDriver } from '../src/reference/driver.js';
import { SEMANTICS } from '../src/semantics/table.js';
import { SEMANTIC_STATES, TABLE_OPERATIONS, powerStateOf, type SemanticState } from '../src/semantics/states.js';
import { eventKindsFor } from '../src/semantics/oracle.js';
import { callTableOp, collectEvents, driveTo, observedState, outcomeOf, spec, vif, volume } from './reference-helpers.js';

/** The events the contract expects for a successful `op` from `from` to `to`. */
function expectedEvents(op: string, from: SemanticState, to: SemanticState): { kinds: readonly string[]; powerState: string } | null {
  if (op === 'spawn') return to === 'RUNNING' ? { kinds: ['STARTED'], powerState: 'RUNNING' } : null;
  if (op === 'destroy') {
    if (from === 'ABSENT') return null;
    const p = powerStateOf(from);
    return p === 'RUNNING' || p === 'PAUSED' ? { kinds: ['STOPPED'], powerState: 'SHUTDOWN' } : null;
  }
  if (from === 'ABSENT' || to === 'ABSENT' || powerStateOf(from) === powerStateOf(to)) return null;
  return { kinds: eventKindsFor(to), powerState: powerStateOf(to) };
}

// Every cell of the semantics table, on the reference driver. Each state is reached through
// operations (CRASHED and NOSTATE through the simulate hooks, as no operation leads there).
describe('reference driver follows every cell of SEMANTICS', () => {
  for (const state of SEMANTIC_STATES) {
    for (const op of TABLE_OPERATIONS) {
      const cell = SEMANTICS[state][op];
      const expected = cell.kind === 'error' ? cell.error : `-> ${cell.to}${cell.noop ? ' (noop)' : ''}`;
      it(`${cell.rule}: ${op} in ${state} ${expected}`, async () => {
        const driver = createReferenceDriver();
        const attachedVolume = randomUUID();
        const attachedVif = randomUUID();
        const s = spec({ networkInfo: [vif(attachedVif)], blockDeviceInfo: { ephemerals: [], volumes: [volume(attachedVolume, 10)] } });
        const uuid = await driveTo(driver, state, s);
        expect(await observedState(driver, uuid)).toBe(state);
        const consoleBefore = state === 'ABSENT' ? null : await driver.getConsoleOutput(uuid);
        const infoBefore = state === 'ABSENT' ? null : await driver.getInfo(uuid);
        const { events } = collectEvents(driver);

        const code = await outcomeOf(() => callTableOp(driver, op, uuid, { attachedVolume, attachedVif }, spec()));
        const after = await observedState(driver, uuid);

        if (cell.kind === 'error') {
          expect(code).toBe(cell.error);
          expect(after).toBe(state);
          expect(events).toEqual([]);
          if (infoBefore) expect(await driver.getInfo(uuid)).toEqual(infoBefore);
          if (consoleBefore) expect(await driver.getConsoleOutput(uuid)).toEqual(consoleBefore);
          return;
        }
        expect(code).toBeNull();
        expect(after).toBe(cell.to);
        const ev = expectedEvents(op, state, cell.to);
        if (ev === null) {
          expect(events).toEqual([]);
        } else {
          expect(events).toHaveLength(1);
          expect(ev.kinds).toContain(events[0]!.kind);
          expect(events[0]!.uuid).toBe(uuid);
          expect(events[0]!.powerState).toBe(ev.powerState);
        }
        if (cell.noop && consoleBefore) {
          expect(await driver.getConsoleOutput(uuid)).toEqual(consoleBefore);
          expect(await driver.getInfo(uuid)).toEqual(infoBefore);
        }
        if (cell.to !== 'ABSENT') expect((await driver.getInfo(uuid)).mode).toBe(cell.to === 'RESCUE' ? 'rescue' : 'normal');
      });
    }
  }
});
