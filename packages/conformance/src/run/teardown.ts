import type { RuleId } from '@nova-common/core';
import { RUN_ID_KEY } from '../config.js';
import { usedOf } from './compare.js';
import type { ExecContext } from './context.js';
import { errorCode, sleep } from './session.js';
import { Violation, show } from './violation.js';

/** The longest the teardown waits for declared eventual releases (a misdeclared bound must not hang a run forever). */
const MAX_TEARDOWN_WAIT_MS = 15 * 60_000;

/**
 * End of a sequence: destroy every instance the sequence created, delete its snapshots,
 * and (when `check`) verify nothing is left: no listed instance carries the run id or is
 * unknown, inventory is back to the baseline once the declared release bounds have passed,
 * and every node available before is available again. Whatever the check finds is then
 * swept, so the next sequence starts clean. Returns the violation instead of throwing it.
 */
export async function teardown(ctx: ExecContext, check: boolean): Promise<Violation | undefined> {
  const { session, model, options } = ctx;
  const driver = session.driver;
  let violation: Violation | undefined;
  const fail = (rule: RuleId, message: string): void => {
    violation ??= new Violation('P-TEARDOWN-CLEAN', rule, message, 'destroy');
  };
  for (const inst of [...model.instances.values()]) {
    try {
      await driver.destroy(inst.uuid);
      session.count('destroy');
      model.apply({ op: 'destroy', uuid: inst.uuid }, { ok: true, to: 'ABSENT', noop: false, rule: 'R-DESTROY-RUNNING' }, performance.now());
    } catch (error) {
      fail('R-DESTROY-IDEMPOTENT', `teardown: destroy(${inst.uuid}) failed with ${errorCode(error)}`);
    }
  }
  for (let i = 0; i < ctx.produced.length; i++) {
    if (model.snapshots[i]?.deleted) continue;
    try {
      await driver.deleteSnapshot(ctx.produced[i]!);
      session.count('deleteSnapshot');
    } catch (error) {
      fail('R-SNAPSHOT-DELETE', `teardown: deleteSnapshot(${ctx.produced[i]}) failed with ${errorCode(error)}`);
    }
  }
  let leftovers: string[] = [];
  try {
    const list = await driver.listInstances();
    session.count('listInstances');
    leftovers = list
      .filter((s) => !model.preexisting.has(s.uuid.toLowerCase()) && (s.metadata[RUN_ID_KEY] === options.runId || model.created.has(s.uuid.toLowerCase())))
      .map((s) => s.uuid);
    if (check && leftovers.length > 0) fail('R-LIST-OWNED', `teardown: instances of this run are still listed after destroy: ${show(leftovers)}`);
  } catch (error) {
    fail('R-LIST-OWNED', `teardown: listInstances failed with ${errorCode(error)}`);
  }
  if (check && !violation && !ctx.disabled.has('P-TEARDOWN-CLEAN')) {
    const deadline = model.pendingDeadline();
    const now = performance.now();
    if (deadline >= now) await sleep(Math.min(deadline - now + 1, MAX_TEARDOWN_WAIT_MS));
    model.expirePending();
    try {
      const inventory = await driver.getInventory();
      session.count('getInventory');
      const used = usedOf(inventory);
      for (const cls of new Set([...Object.keys(used), ...Object.keys(model.baselineUsed)])) {
        if ((used[cls] ?? 0) !== (model.baselineUsed[cls] ?? 0)) {
          fail('R-INV-RELEASE', `teardown: inventory ${cls} used is ${used[cls] ?? 0} after every release bound passed, baseline was ${model.baselineUsed[cls] ?? 0}`);
          break;
        }
      }
      if (model.multiNode) {
        const nodes = await driver.listNodes();
        session.count('listNodes');
        const before = new Set(model.baseline.nodes.filter((n) => n.available).map((n) => n.id));
        const stuck = nodes.filter((n) => before.has(n.id) && !n.available);
        if (stuck.length > 0) fail('R-NODE-AVAILABLE', `teardown: nodes still unavailable after nodeAvailableMs: ${show(stuck)}`);
      }
    } catch (error) {
      fail('R-INV-RELEASE', `teardown: reading inventory failed with ${errorCode(error)}`);
    }
  }
  // Sweep what is left, so the next sequence starts from a clean host.
  for (const uuid of leftovers) {
    try {
      await driver.destroy(uuid);
    } catch {
      // Nothing more can be done here; the next sequence sees it as present before.
    }
  }
  return check ? violation : undefined;
}
