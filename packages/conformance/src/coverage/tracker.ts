import type { SemanticState, TableOperation } from '@nova-common/core';
import { cellKey, type CellRef } from './cells.js';

/**
 * What a run reached: the reachable cells of the semantics table it called (a call counts for
 * the cell of its target's state, as the model knew it, just before the call, whatever the
 * verdict), and the error paths: per operation, the error codes the model expected and the
 * suite therefore checked, with how often.
 */
export interface CoverageReport {
  /** Reachable cells called at least once. */
  cellsReached: number;
  /** Cells the run could reach for the driver's declared capabilities and the fixtures' hooks. */
  cellsReachable: number;
  /** The reachable cells never called, rows in table order. */
  missing: CellRef[];
  /** Per operation: each error code the suite expected of it, and how many calls it checked. */
  errorPaths: Record<string, Record<string, number>>;
}

/** Collects the cells and error paths of the model sequences and the table walk of one run. */
export class CoverageTracker {
  private readonly reachable: readonly CellRef[];
  private readonly reachableKeys: ReadonlySet<string>;
  private readonly hits = new Map<string, number>();
  private readonly errors = new Map<string, Map<string, number>>();
  private reachedCount = 0;

  constructor(reachable: readonly CellRef[]) {
    this.reachable = reachable;
    this.reachableKeys = new Set(reachable.map((c) => cellKey(c.state, c.column)));
  }

  /** A call of `column` on an instance in `state`. */
  hitCell(state: SemanticState, column: TableOperation): void {
    const key = cellKey(state, column);
    const n = this.hits.get(key) ?? 0;
    if (n === 0 && this.reachableKeys.has(key)) this.reachedCount++;
    this.hits.set(key, n + 1);
  }

  /** A call of `op` the model expected to fail with `code`. */
  hitError(op: string, code: string): void {
    let codes = this.errors.get(op);
    if (codes === undefined) this.errors.set(op, (codes = new Map()));
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }

  /** How often a cell was called. */
  count(state: SemanticState, column: TableOperation): number {
    return this.hits.get(cellKey(state, column)) ?? 0;
  }

  get reached(): number {
    return this.reachedCount;
  }

  get complete(): boolean {
    return this.reachedCount >= this.reachable.length;
  }

  /** The reachable cells not called yet. */
  missing(): CellRef[] {
    return this.reachable.filter((c) => !this.hits.has(cellKey(c.state, c.column)));
  }

  report(): CoverageReport {
    const errorPaths: Record<string, Record<string, number>> = {};
    for (const op of [...this.errors.keys()].sort()) {
      const codes = this.errors.get(op)!;
      errorPaths[op] = Object.fromEntries([...codes.keys()].sort().map((c) => [c, codes.get(c)!]));
    }
    return { cellsReached: this.reachedCount, cellsReachable: this.reachable.length, missing: this.missing(), errorPaths };
  }
}

/** "PAUSED/rebootSoft, RESCUE/spawn": missing cells for messages. */
export function formatCells(cells: readonly CellRef[]): string {
  return cells.map((c) => cellKey(c.state, c.column)).join(', ');
}
