import { describe, expect, it } from 'vitest';
import {
  OPERATIONS,
  SEMANTIC_STATES,
  SEMANTICS,
  TABLE_OPERATIONS,
  operationOfColumn,
  type CapabilityId,
  type ComputeDriver,
  type SemanticState,
  type TableOperation,
} from '@nova-common/core';
import { createReferenceDriver, type ReferenceDriver } from '@nova-common/core/testing';
import { runConformance, type CoverageResult, type RunResult, type SimulationHooks } from '../../src/index.js';

const simulate: SimulationHooks = {
  crash: (d: ComputeDriver, uuid: string) => (d as ReferenceDriver).simulateCrash(uuid),
  noState: (d: ComputeDriver, uuid: string) => (d as ReferenceDriver).simulateNoState(uuid),
};

const SEEDS = [1, 7920, 20240601];

function coverageOf(r: RunResult): CoverageResult {
  expect(r.coverage, 'the run reports its coverage').toBeDefined();
  return r.coverage!;
}

const missingText = (c: CoverageResult): string => `missing cells: ${c.missing.map((m) => `${m.state}/${m.column}`).join(', ') || 'none'}`;

/** The error codes the table itself gives for the cells of `states` x `columns`, per operation. */
function tableErrors(states: readonly SemanticState[], columns: readonly TableOperation[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const s of states) {
    for (const c of columns) {
      const cell = SEMANTICS[s][c];
      if (cell.kind !== 'error') continue;
      const op = operationOfColumn(c);
      out.set(op, (out.get(op) ?? new Set()).add(cell.error));
    }
  }
  return out;
}

describe('the default run reaches every reachable cell of the semantics table on the reference driver', () => {
  for (const seed of SEEDS) {
    it(`with the simulation hooks, every row and every column (seed ${seed})`, async () => {
      const r = await runConformance({ driver: () => createReferenceDriver(), seed, simulate });
      expect(r.summary.failed).toBe(0);
      const c = coverageOf(r);
      // Everything is declared and both hooks are given: the whole table is reachable.
      expect(c.cellsReachable).toBe(SEMANTIC_STATES.length * TABLE_OPERATIONS.length);
      expect(c.cellsReached, missingText(c)).toBe(c.cellsReachable);
      expect(c.missing).toEqual([]);
      // Every error the table gives is an error path the run checked, for its operation.
      for (const [op, codes] of tableErrors(SEMANTIC_STATES, TABLE_OPERATIONS)) {
        for (const code of codes) expect(c.errorPaths[op]?.[code] ?? 0, `${op} ${code}`).toBeGreaterThan(0);
      }
      // Beyond the table: device preconditions, a spawn that cannot fit, a volume asked to shrink.
      expect(c.errorPaths.attachVolume?.VOLUME_ALREADY_ATTACHED ?? 0).toBeGreaterThan(0);
      expect(c.errorPaths.detachInterface?.INTERFACE_NOT_ATTACHED ?? 0).toBeGreaterThan(0);
      expect(c.errorPaths.spawn?.INSUFFICIENT_RESOURCES ?? 0).toBeGreaterThan(0);
    });

    it(`without the hooks, CRASHED and NOSTATE are not reachable and the rest is reached (seed ${seed})`, async () => {
      const r = await runConformance({ driver: () => createReferenceDriver(), seed });
      const c = coverageOf(r);
      expect(c.cellsReachable).toBe((SEMANTIC_STATES.length - 2) * TABLE_OPERATIONS.length);
      expect(c.cellsReached, missingText(c)).toBe(c.cellsReachable);
    });
  }

  it('with capabilities declared missing, their columns and the rows only they lead to are not reachable, the rest is reached', async () => {
    const disabled: CapabilityId[] = ['operation.pause', 'operation.unpause', 'operation.rescue', 'operation.extend-volume'];
    const r = await runConformance({ driver: () => createReferenceDriver({ disabledCapabilities: disabled }), seed: 11, simulate });
    const c = coverageOf(r);
    const columns = TABLE_OPERATIONS.filter((col) => {
      const op = operationOfColumn(col);
      const cap = OPERATIONS[op].capability;
      const extra = (OPERATIONS[op].columnCapabilities as Record<string, CapabilityId>)[col];
      return !(cap !== null && disabled.includes(cap)) && !(extra !== undefined && disabled.includes(extra));
    });
    // PAUSED is reached only by pause (or restoreState to PAUSED, which needs pause); RESCUE only by rescue.
    const rows = SEMANTIC_STATES.filter((s) => s !== 'PAUSED' && s !== 'RESCUE');
    expect(c.cellsReachable).toBe(rows.length * columns.length);
    expect(c.cellsReached, missingText(c)).toBe(c.cellsReachable);
    // The UNSUPPORTED answers of restoreState to PAUSED were checked as an error path.
    expect(c.errorPaths.restoreState?.UNSUPPORTED ?? 0).toBeGreaterThan(0);
  });
});

describe('steering', () => {
  // Without the table walk the generated sequences alone leave cells; steering rounds go after them.
  const base = { walk: false, runs: 3, steps: 10, seed: 5, simulate } as const;

  it('without a budget the sequences alone leave cells missing; with one, steering rounds reach them all; a small one stops early', async () => {
    const plain = await runConformance({ driver: () => createReferenceDriver(), ...base, budget: '0steps' });
    const p = coverageOf(plain);
    expect(p.missing.length).toBeGreaterThan(0);
    expect(p.steeredRuns).toBe(0);

    const steered = await runConformance({ driver: () => createReferenceDriver(), ...base, budget: '100000steps' });
    const c = coverageOf(steered);
    expect(steered.summary.failed).toBe(0);
    expect(c.steeredRuns).toBeGreaterThan(0);
    expect(c.cellsReached, missingText(c)).toBe(c.cellsReachable);
    expect(c.budget).toBe('100000 steps');

    // A budget of one step: steering starts (the configured sequences are the same, so the
    // extra steps are its own), and no sequence starts once the step is spent.
    const small = await runConformance({ driver: () => createReferenceDriver(), ...base, budget: '1steps' });
    const s = coverageOf(small);
    expect(small.stats!.steps).toBeGreaterThan(plain.stats!.steps);
    expect(s.steeredRuns).toBeGreaterThan(0);
    expect(s.steeredRuns).toBeLessThan(c.steeredRuns);
    expect(s.missing.length).toBeGreaterThan(0);
    expect(s.cellsReached + s.missing.length).toBe(s.cellsReachable);
  });

  it('the same seed and budget reach the same cells', async () => {
    const a = coverageOf(await runConformance({ driver: () => createReferenceDriver(), ...base, budget: '300steps' }));
    const b = coverageOf(await runConformance({ driver: () => createReferenceDriver(), ...base, budget: '300steps' }));
    expect(b.missing).toEqual(a.missing);
    expect(b.steeredRuns).toBe(a.steeredRuns);
  });
});
