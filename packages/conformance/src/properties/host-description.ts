import { StepLog } from '../run/fixed.js';
import { errorCode, errorMessage, type Session } from '../run/session.js';
import { Violation } from '../run/violation.js';
import type { FixedOutcome } from './unsupported.js';

const ID = 'P-HOST-DESCRIPTION';

export { HostDescriptionError } from '../run/open-error.js';

/**
 * P-HOST-DESCRIPTION: what the driver says of its host before any instance exists is valid
 * (the guard checks each output against the contract's schemas): the capability declaration
 * (read when the session opened), the instance list, the inventory and the nodes. The model
 * starts from these, so when they are invalid nothing else can be judged.
 */
export async function checkHostDescription(session: Session): Promise<FixedOutcome> {
  const log = new StepLog();
  const driver = session.driver;
  const reads: [string, () => Promise<unknown>][] = [
    ['listInstances', () => driver.listInstances()],
    ['getInventory', () => driver.getInventory()],
    ['listNodes', () => driver.listNodes()],
  ];
  for (const [op, read] of reads) {
    const r = await log.call(op, [], { ok: true }, read);
    session.count(op);
    if (r.ok) continue;
    const refused = session.isContractViolation(r.error);
    const message = refused
      ? `${op} returned what the contract does not allow: ${errorMessage(r.error)}`
      : `${op} failed with ${errorCode(r.error)}: ${errorMessage(r.error)}; before any instance exists it must answer`;
    return { trace: log.trace, violation: new Violation(ID, refused ? 'R-GEN-OUTPUT' : 'R-GEN-ERRORS', message, op) };
  }
  return { trace: log.trace, violation: undefined };
}
