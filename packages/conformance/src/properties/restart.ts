import type { InstanceInfo } from '@nova-common/core';
import type { ExecContext } from '../run/context.js';
import { errorCode, errorMessage, type Session } from '../run/session.js';
import { Violation, show } from '../run/violation.js';
import { sequenceUuids } from './witness.js';

/** What a driver reports of the sequence's instances: listed or not, and getInfo's answer. */
type View = Map<string, { listed: boolean; info: Comparable | string }>;

/** The getInfo fields a restart must not change (devices by id, sorted). */
type Comparable = Pick<InstanceInfo, 'powerState' | 'mode' | 'name' | 'node' | 'metadata'> & { volumes: string[]; interfaces: string[] };

const WHAT = 'after a restart (cleanupHost, a new driver from the factory, initHost)';

/**
 * P-RESTART, at the end of a sequence that passed: read what the driver reports of the
 * sequence's instances, stop it (cleanupHost), make a new driver with `reopen` (the run's
 * factory) and connect it, and check it lists the same instances with the same getInfo
 * (R-RESTART-SAME). The new session replaces the old one in `ctx`: the teardown then destroys
 * the instances through it. A driver keeping its instances in one object's memory fails here.
 */
export async function checkRestart(ctx: ExecContext, reopen: (() => Promise<Session>) | undefined): Promise<Violation | undefined> {
  if (!ctx.options.restart || reopen === undefined || ctx.disabled.has('P-RESTART')) return undefined;
  const mine = sequenceUuids(ctx);
  const before = await viewOf(ctx.session, mine);
  if (typeof before === 'string') return undefined; // The old driver's own failure: other properties judge it.
  await ctx.session.close();
  let fresh: Session;
  try {
    fresh = await reopen();
  } catch (error) {
    return new Violation('P-RESTART', 'R-RESTART-SAME', `${WHAT}: the new driver could not connect: ${errorCode(error)}: ${errorMessage(error)}`, undefined);
  }
  ctx.session = fresh;
  const after = await viewOf(fresh, mine);
  if (typeof after === 'string') return new Violation('P-RESTART', 'R-RESTART-SAME', `${WHAT}: ${after}`, undefined);
  for (const [uuid, was] of before) {
    const now = after.get(uuid)!;
    if (was.listed !== now.listed) {
      const message = was.listed ? `listInstances no longer reports ${uuid}` : `listInstances now reports ${uuid}, which it did not before`;
      return new Violation('P-RESTART', 'R-RESTART-SAME', `${WHAT}: ${message}`, undefined, was.listed, now.listed);
    }
    const a = show(was.info);
    const b = show(now.info);
    if (a !== b) return new Violation('P-RESTART', 'R-RESTART-SAME', `${WHAT}: getInfo(${uuid}) was ${a}, is now ${b}`, undefined, was.info, now.info);
  }
  return undefined;
}

/** The view of the sequence's instances through one session; a string when listInstances failed. */
async function viewOf(session: Session, mine: ReadonlySet<string>): Promise<View | string> {
  let listed: Set<string>;
  try {
    session.count('listInstances');
    listed = new Set((await session.driver.listInstances()).map((s) => s.uuid.toLowerCase()));
  } catch (error) {
    return `listInstances failed with ${errorCode(error)}: ${errorMessage(error)}`;
  }
  const view: View = new Map();
  for (const uuid of [...mine].sort()) {
    let info: Comparable | string;
    try {
      session.count('getInfo');
      info = comparable(await session.driver.getInfo(uuid));
    } catch (error) {
      info = errorCode(error);
    }
    view.set(uuid, { listed: listed.has(uuid), info });
  }
  return view;
}

function comparable(info: InstanceInfo): Comparable {
  const metadata = Object.fromEntries(Object.entries(info.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    powerState: info.powerState,
    mode: info.mode,
    name: info.name,
    node: info.node,
    metadata,
    volumes: info.volumes.map((v) => `${v.volumeId.toLowerCase()}:${v.sizeGb ?? '?'}`).sort(),
    interfaces: info.interfaces.map((i) => i.id.toLowerCase()).sort(),
  };
}
