import type { WitnessMachine } from '@nova-common/core';
import { targetOf } from '../commands/call.js';
import type { ExecContext } from '../run/context.js';
import { errorCode, errorMessage, sleep } from '../run/session.js';
import { Violation, show } from '../run/violation.js';

/**
 * P-BACKEND-WITNESS: what the backend holds for this sequence, as the driver's witness sees it
 * without the driver, compared with what the driver reports. `sequence`: after the calls, every
 * instance of the sequence the driver lists is on the backend (R-BACKEND-GHOST), and every
 * machine of the sequence there is listed or was destroyed less than the declared release
 * bounds ago (R-BACKEND-LEAK). `teardown`: after the teardown, once the release bounds have
 * passed (polled until then), nothing of the sequence remains on the backend.
 */
export async function checkWitness(ctx: ExecContext, phase: 'sequence' | 'teardown'): Promise<Violation | undefined> {
  const witness = ctx.options.witness;
  if (witness === undefined || ctx.disabled.has('P-BACKEND-WITNESS')) return undefined;
  const mine = sequenceUuids(ctx);
  if (mine.size === 0) return undefined;
  if (phase === 'sequence') return atSequenceEnd(ctx, mine);
  const deadline = releaseDeadline(ctx);
  for (;;) {
    const read = await machinesOf(ctx, mine);
    if (read instanceof Violation) return read;
    const left = [...read.values()];
    if (left.length === 0) return undefined;
    const now = performance.now();
    if (now >= deadline) {
      return new Violation(
        'P-BACKEND-WITNESS',
        'R-BACKEND-LEAK',
        `after the teardown destroyed every instance and the declared release bounds passed, the backend still holds ${describe(left)}`,
        'destroy',
        [],
        left,
      );
    }
    await sleep(Math.min(100, deadline - now));
  }
}

/** The uuids (lower case) this sequence spawned or tried to, other than instances present before it. */
export function sequenceUuids(ctx: ExecContext): Set<string> {
  const out = new Set<string>();
  for (const call of ctx.calls) {
    if (call.op !== 'spawn') continue;
    const uuid = targetOf(call)?.toLowerCase();
    if (uuid !== undefined && !ctx.model.preexisting.has(uuid)) out.add(uuid);
  }
  return out;
}

/** When every release the model waits for is due, with the run's slack. */
function releaseDeadline(ctx: ExecContext): number {
  let latest = performance.now();
  for (const p of ctx.model.pending) latest = Math.max(latest, p.releaseBy, p.nodeBy);
  return latest + ctx.options.settleTimeoutMs;
}

/** The witness's machines of this sequence, by lower-case uuid; a failed read is a violation naming it. */
async function machinesOf(ctx: ExecContext, mine: ReadonlySet<string>): Promise<Map<string, WitnessMachine> | Violation> {
  let machines: WitnessMachine[];
  try {
    machines = await ctx.options.witness!.listMachines();
  } catch (error) {
    return new Violation('P-BACKEND-WITNESS', 'R-BACKEND-LEAK', `the witness could not read the backend: ${errorCode(error)}: ${errorMessage(error)}`, undefined);
  }
  const out = new Map<string, WitnessMachine>();
  for (const m of machines) {
    const uuid = m.uuid.toLowerCase();
    if (mine.has(uuid)) out.set(uuid, m);
  }
  return out;
}

async function atSequenceEnd(ctx: ExecContext, mine: ReadonlySet<string>): Promise<Violation | undefined> {
  const { session, model } = ctx;
  const read = await machinesOf(ctx, mine);
  if (read instanceof Violation) return read;
  let listed: Set<string>;
  try {
    session.count('listInstances');
    listed = new Set((await session.driver.listInstances()).map((s) => s.uuid.toLowerCase()));
  } catch (error) {
    return new Violation('P-BACKEND-WITNESS', 'R-BACKEND-GHOST', `end of sequence: listInstances failed with ${errorCode(error)}: ${errorMessage(error)}`, undefined);
  }
  const ghosts = [...mine].filter((uuid) => listed.has(uuid) && !read.has(uuid));
  if (ghosts.length > 0) {
    return new Violation('P-BACKEND-WITNESS', 'R-BACKEND-GHOST', `end of sequence: listInstances reports ${show(ghosts)}, which the backend does not hold`, 'spawn', ghosts, []);
  }
  const now = performance.now();
  const releasing = new Set(model.pending.filter((p) => Math.max(p.releaseBy, p.nodeBy) + ctx.options.settleTimeoutMs >= now).map((p) => p.uuid.toLowerCase()));
  const leaks = [...read.values()].filter((m) => !listed.has(m.uuid.toLowerCase()) && !releasing.has(m.uuid.toLowerCase()));
  if (leaks.length === 0) return undefined;
  const destroyed = leaks.some((m) => model.created.has(m.uuid.toLowerCase()));
  return new Violation(
    'P-BACKEND-WITNESS',
    'R-BACKEND-LEAK',
    `end of sequence: the backend holds ${describe(leaks)}, which listInstances does not report${destroyed ? ' (destroyed by the sequence, past the declared release bounds)' : ' (a spawn that failed)'}`,
    destroyed ? 'destroy' : 'spawn',
    [],
    leaks,
  );
}

function describe(machines: readonly WitnessMachine[]): string {
  return machines.map((m) => `${m.uuid}${m.running === true ? ' (still running)' : m.running === false ? ' (powered off)' : ''}`).join(', ');
}
