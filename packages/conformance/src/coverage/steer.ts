import fc from 'fast-check';
import { expectedOutcome, operationOfColumn, TABLE_OPERATIONS, type SemanticState, type SemanticsTable, type TableOperation } from '@nova-common/core';
import type { ResolvedOptions } from '../config.js';
import type { SequenceOp } from '../commands/call.js';
import { canRun, resolveIntent, type CommandScope, type Intent, type SequenceModel } from '../commands/intents.js';
import { smallFlavor } from '../model/arbitraries.js';
import type { ExecContext } from '../run/context.js';
import { columnReachable, type CellRef } from './cells.js';
import { executeRecorded } from './record.js';
import type { CoverageTracker } from './tracker.js';

/**
 * Steering: commands aimed at the cells of the semantics table the run has not reached yet.
 * Each one names a missing cell; when it runs, it takes a live instance (or spawns one), moves
 * it into the cell's state along the shortest path the oracle gives (columns the run may call,
 * the simulation hooks), then calls the cell's column. Generated sequences mix them with the
 * other commands, so a steered cell is also reached in the middle of interleavings.
 */

type Step = TableOperation | 'simulateCrash' | 'simulateNoState';

/** Shortest path of state-changing columns (or simulations) from `from` to `to`, by the oracle; undefined when there is none. */
export function pathTo(from: SemanticState, to: SemanticState, columns: readonly TableOperation[], scope: Pick<CommandScope, 'simulate'>, table: SemanticsTable): Step[] | undefined {
  const prev = new Map<SemanticState, [SemanticState, Step] | null>([[from, null]]);
  const queue: SemanticState[] = [from];
  while (queue.length > 0 && !prev.has(to)) {
    const s = queue.shift()!;
    const edges: [Step, SemanticState][] = [];
    for (const col of columns) {
      const o = expectedOutcome(s, col, {}, table);
      if (o.ok && o.to !== s && o.to !== 'ABSENT') edges.push([col, o.to]);
    }
    if (s !== 'ABSENT' && scope.simulate.crash) edges.push(['simulateCrash', 'CRASHED']);
    if (s !== 'ABSENT' && scope.simulate.noState) edges.push(['simulateNoState', 'NOSTATE']);
    for (const [step, next] of edges) {
      if (prev.has(next)) continue;
      prev.set(next, [s, step]);
      queue.push(next);
    }
  }
  if (!prev.has(to)) return undefined;
  const steps: Step[] = [];
  for (let s = to; prev.get(s); s = prev.get(s)![0]) steps.unshift(prev.get(s)![1]);
  return steps;
}

/** What every steering command of one run shares. */
export interface SteerContext {
  options: ResolvedOptions;
  scope: CommandScope;
  table: SemanticsTable;
  coverage: CoverageTracker;
}

/** The columns a steering path may use (every reachable one but spawn: paths start from a live instance). */
const pathColumns = new WeakMap<CommandScope, readonly TableOperation[]>();
function columnsOf(scope: CommandScope): readonly TableOperation[] {
  let columns = pathColumns.get(scope);
  if (columns === undefined) {
    columns = TABLE_OPERATIONS.filter((c) => c !== 'spawn' && columnReachable(scope, c));
    pathColumns.set(scope, columns);
  }
  return columns;
}

/** One steering command: reach `cell` from wherever the sequence is. */
export class SteerCommand implements fc.AsyncCommand<SequenceModel, ExecContext> {
  constructor(
    readonly cell: CellRef,
    private readonly pick: number,
    private readonly steer: SteerContext,
  ) {}

  check(): boolean {
    return true;
  }

  async run(s: SequenceModel, ctx: ExecContext): Promise<void> {
    const { options, scope, table, coverage } = this.steer;
    const k = options.maxInstances;
    const run = async (intent: Intent): Promise<void> => {
      if (!canRun(s, intent, k)) return;
      const resolved = resolveIntent(s, intent, options, scope);
      for (const call of resolved instanceof Promise ? await resolved : resolved) await executeRecorded(coverage, ctx, call);
    };
    const { state, column } = this.cell;
    const call = (col: TableOperation, slot: number): Intent => ({ kind: 'call', op: operationOfColumn(col) as SequenceOp, slot, pick: this.pick, twice: false, column: col, letters: this.pick });
    if (state === 'ABSENT') {
      // The uuid the sequence never spawns (a spawn there is every sequence's first cell).
      if (column !== 'spawn') await run(call(column, 2 * k));
      return;
    }
    // A live instance with a way to the state (the pick chooses among them), else a new one.
    const live = [...s.model.instances.values()].map((i) => s.pools.uuids.indexOf(i.uuid.toLowerCase())).filter((i) => i >= 0 && i < k);
    const ways = live.filter((i) => pathTo(s.model.stateOf(s.pools.uuids[i]!), state, columnsOf(scope), scope, table) !== undefined);
    let index = ways.length > 0 ? ways[this.pick % ways.length]! : -1;
    if (index < 0) {
      const free = s.pools.uuids.slice(0, k).findIndex((u) => s.model.get(u) === undefined);
      if (free < 0) return;
      await run(spawnIntent(free, true));
      if (s.model.get(s.pools.uuids[free]!) === undefined) return;
      index = free;
    }
    const uuid = s.pools.uuids[index]!;
    const steps = pathTo(s.model.stateOf(uuid), state, columnsOf(scope), scope, table);
    if (steps === undefined) return;
    for (const step of steps) {
      if (step === 'simulateCrash' || step === 'simulateNoState') await run({ kind: 'simulate', which: step === 'simulateCrash' ? 'crash' : 'noState', slot: k + index });
      else await run(call(step, k + index));
    }
    if (s.model.stateOf(uuid) !== state) return;
    // The cell: a spawn on the live instance's uuid (INSTANCE_EXISTS), or the column.
    await run(column === 'spawn' ? spawnIntent(index, false) : call(column, k + index));
  }

  toString(): string {
    return `steer(${this.cell.state}/${this.cell.column}, ${this.pick})`;
  }
}

/** A plain spawn in pool slot `slot`; `fresh: false` keeps the slot even when its instance is live. */
function spawnIntent(slot: number, fresh: boolean): Intent {
  return {
    kind: 'spawn',
    slot,
    name: 'steer',
    metadata: {},
    flavor: smallFlavor(1, 32, 0),
    image: 0,
    powerOn: true,
    volumes: [],
    vifs: [],
    variant: 'normal',
    fresh,
    letters: 0,
    naming: 0,
  };
}

/** How many entries of the command list steering takes while cells are missing (the others weigh 1 each). */
export const STEER_WEIGHT = 8;

/**
 * The steering commands for the cells still missing (none when nothing is): fast-check draws
 * one of the cells and a pick. Built per round of sequences, so each round aims at what the
 * rounds before it left.
 */
export function steerArbitraries(missing: readonly CellRef[], steer: SteerContext): fc.Arbitrary<fc.AsyncCommand<SequenceModel, ExecContext>>[] {
  if (missing.length === 0) return [];
  const arb = fc.tuple(fc.nat({ max: missing.length - 1 }), fc.nat({ max: 1023 })).map(([i, pick]) => new SteerCommand(missing[i]!, pick, steer));
  return Array.from({ length: STEER_WEIGHT }, () => arb);
}
