import { AsyncLocalStorage } from 'node:async_hooks';
import { SEMANTICS, type SemanticsTable } from './table.js';

/**
 * The semantics table a driver's code is held to while the guard runs one of its calls.
 *
 * A driver built against an older contract imports the current core (one copy per process),
 * and may decide its cells with `expectedOutcome` or `enforceCell` without naming a table.
 * It must get the table of its own baseline (R-BASELINE): a 1.0 driver keeps answering a soft
 * reboot of a paused instance as 1.0 says. The guard knows the baseline, the driver's code
 * does not, and no argument can carry it through a driver written before it existed, so the
 * guard runs such a driver's calls in an async context holding its table. Drivers of the
 * current contract run outside any context and pay nothing.
 */
const inForce = new AsyncLocalStorage<SemanticsTable>();

/** The table of the driver whose call is running; the current contract's outside a guarded call. */
export function tableInForce(): SemanticsTable {
  return inForce.getStore() ?? SEMANTICS;
}

/** Run `fn` (and everything it starts) holding `table` as the table in force. */
export function runUnderTable<T>(table: SemanticsTable, fn: () => T): T {
  return inForce.run(table, fn);
}
