import { isDriverError, type MigrationPhase, type MigrationProgress, type MigrationTarget } from '@nova-common/core';
import { sleep } from '../run/session.js';
import { expectError, MigrationViolation } from './hosts.js';
import { cleanUp, kindsOf, request, type MigrationContext } from './properties.js';

/** How often the property reads the source's progress while migrate runs. */
const POLL_MS = 25;
/** A migrate that runs longer than this must have let at least one read through (R-MIGRATE-PROGRESS). */
const READ_THROUGH_AFTER_MS = 1000;

/** The order a source's readings may follow: NONE before the move starts, the instance gone once it left. */
const RANK: Record<MigrationPhase | 'GONE', number> = { NONE: 0, COPYING: 1, SWITCHING: 2, CLEANING: 3, GONE: 4 };

type Reading = MigrationProgress | 'GONE';
const phaseOf = (r: Reading): MigrationPhase | 'GONE' => (r === 'GONE' ? r : r.phase);

/**
 * P-MIGRATE-PROGRESS: the source answers getMigrationProgress while migrate runs (a read that
 * waited behind the migrate would only answer after it), every reading of the running
 * migration names it, the phases only move forward, and the data processed never decreases.
 * Before the move the source reads NONE, the destination (which does not hold the instance)
 * INSTANCE_NOT_FOUND; after it, the other way round.
 */
export async function watchProgress(ctx: MigrationContext): Promise<void> {
  const { a, b } = ctx.hosts;
  const uuid = ctx.uuid();
  const kind = kindsOf(ctx.caps).includes('LIVE') ? 'LIVE' : 'COLD';
  const spec = ctx.hosts.spec(uuid, 500);
  await a.spawn(spec);
  try {
    const idle = await a.getMigrationProgress(uuid);
    if (idle.phase !== 'NONE') throw new MigrationViolation('R-MIGRATE-PROGRESS', `before any migration the source reads ${JSON.stringify(idle)}, expected phase NONE`);
    await expectError('getMigrationProgress on a host without the instance', 'R-MIGRATE-PROGRESS', 'INSTANCE_NOT_FOUND', () => b.getMigrationProgress(uuid));
    const target = await b.prepareMigration(request(ctx, uuid, kind, spec));
    const { readings, readThrough, tookMs } = await readWhileMoving(ctx, uuid, target);
    ctx.log.push(`${readings.length} readings in ${tookMs} ms of ${kind} migrate: ${summarise(readings)}`);
    checkReadings(readings, target);
    if (tookMs > READ_THROUGH_AFTER_MS && !readThrough) {
      throw new MigrationViolation('R-MIGRATE-PROGRESS', `migrate ran ${tookMs} ms and no progress read answered before it ended: the read waits behind the migration`);
    }
    await expectError('getMigrationProgress on the source after the move', 'R-MIGRATE-PROGRESS', 'INSTANCE_NOT_FOUND', () => a.getMigrationProgress(uuid));
    const arrived = await b.getMigrationProgress(uuid);
    if (arrived.phase !== 'NONE') throw new MigrationViolation('R-MIGRATE-PROGRESS', `the destination reads ${JSON.stringify(arrived)} for the instance that arrived, expected phase NONE`);
    await b.finishMigration(target.migrationId);
  } finally {
    await cleanUp(ctx, uuid);
  }
}

/** Start migrate and read the source's progress until it settles. */
async function readWhileMoving(ctx: MigrationContext, uuid: string, target: MigrationTarget): Promise<{ readings: Reading[]; readThrough: boolean; tookMs: number }> {
  const started = Date.now();
  let settled = false;
  const moving = ctx.hosts.a.migrate(uuid, target).finally(() => {
    settled = true;
  });
  // Awaited below; caught here so that a failed migrate does not go unhandled while the reads run.
  moving.catch(() => undefined);
  const readings: Reading[] = [];
  let readThrough = false;
  while (!settled) {
    readings.push(await readOnce(ctx, uuid));
    if (!settled) readThrough = true;
    await sleep(POLL_MS);
  }
  await moving;
  return { readings, readThrough, tookMs: Date.now() - started };
}

async function readOnce(ctx: MigrationContext, uuid: string): Promise<Reading> {
  try {
    return await ctx.hosts.a.getMigrationProgress(uuid);
  } catch (e) {
    // The instance left the source between two reads: it is on the destination now.
    if (isDriverError(e) && e.code === 'INSTANCE_NOT_FOUND') return 'GONE';
    throw e;
  }
}

function checkReadings(readings: readonly Reading[], target: MigrationTarget): void {
  let rank = 0;
  let processed = 0;
  for (const [i, r] of readings.entries()) {
    const phase = phaseOf(r);
    if (RANK[phase] < rank) throw new MigrationViolation('R-MIGRATE-PROGRESS', `reading ${i + 1} is ${phase} after ${summarise(readings.slice(0, i))}: the phases only move forward`);
    rank = RANK[phase];
    if (r === 'GONE' || r.phase === 'NONE') continue;
    if (r.migrationId !== target.migrationId || r.kind !== target.kind) {
      throw new MigrationViolation('R-MIGRATE-PROGRESS', `reading ${i + 1} names migration ${r.migrationId} (${r.kind}), the one running is ${target.migrationId} (${target.kind})`);
    }
    if (r.dataProcessedBytes !== undefined) {
      if (r.dataProcessedBytes < processed) throw new MigrationViolation('R-MIGRATE-PROGRESS', `reading ${i + 1} has ${r.dataProcessedBytes} bytes processed, an earlier one ${processed}`);
      processed = r.dataProcessedBytes;
    }
  }
}

/** The phases seen in order, each with how many readings, and the last data figure. */
function summarise(readings: readonly Reading[]): string {
  const runs: string[] = [];
  let last: string | undefined;
  let n = 0;
  for (const r of readings) {
    const phase = phaseOf(r);
    if (phase !== last && last !== undefined) runs.push(`${last}x${n}`);
    if (phase !== last) n = 0;
    last = phase;
    n++;
  }
  if (last !== undefined) runs.push(`${last}x${n}`);
  const data = [...readings].reverse().find((r): r is MigrationProgress => r !== 'GONE' && r.dataProcessedBytes !== undefined);
  return `${runs.join(' ') || 'none'}${data ? `; ${data.dataProcessedBytes} of ${data.dataTotalBytes ?? '?'} bytes processed` : ''}`;
}
