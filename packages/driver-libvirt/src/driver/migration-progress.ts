import { errors, type CallOptions, type MigrationPhase, type MigrationProgress, type MigrationTarget } from '@nova-common/core';
import { numericParams } from '../client/protocol/typed-params.js';
import { toContractError } from '../mapping/errors.js';
import type { DriverContext } from './context.js';
import { load } from './instances.js';
import { refuseUnsupported } from './migration-destination.js';
import { ensureReady } from './readiness.js';

const op = 'getMigrationProgress';

/** A migration running on this host as its source: what getMigrationProgress reads. */
export interface RunningMigration {
  readonly target: MigrationTarget;
  readonly startedAt: number;
  phase: Exclude<MigrationPhase, 'NONE'>;
  /** The highest data figure read so far: a reading never goes below it (R-MIGRATE-PROGRESS). */
  processed: number;
}

/** Mark the instance's migration as started here (COPYING); the returned function ends it. */
export function trackMigration(ctx: DriverContext, uuid: string, target: MigrationTarget): () => void {
  const key = uuid.toLowerCase();
  const run: RunningMigration = { target, startedAt: Date.now(), phase: 'COPYING', processed: 0 };
  ctx.migrations.set(key, run);
  return () => {
    if (ctx.migrations.get(key) === run) ctx.migrations.delete(key);
  };
}

/** The next phase of the instance's running migration (phases only move forward). */
export function enterPhase(ctx: DriverContext, uuid: string, phase: 'SWITCHING' | 'CLEANING'): void {
  const run = ctx.migrations.get(uuid.toLowerCase());
  if (run !== undefined && (run.phase === 'COPYING' || phase === 'CLEANING')) run.phase = phase;
}

/**
 * SOURCE: where the instance's migration stands. While a live migration copies, the figures
 * are libvirt's job statistics (virDomainGetJobStats: data_total, data_processed,
 * data_remaining, memory and disks together), as Nova's libvirt driver reads them in its
 * migration monitor. A cold copy is a file copy this driver makes: it reports the phase and
 * the time only. Never waits for the migration: the job query runs beside the migrate call.
 */
export async function getMigrationProgress(ctx: DriverContext, uuid: string, options?: CallOptions): Promise<MigrationProgress> {
  const key = uuid.toLowerCase();
  // What the driver does not do is refused before any input is judged (R-GEN-ORDER).
  refuseUnsupported(ctx, op, key);
  const run = ctx.migrations.get(key);
  if (run === undefined) {
    await ensureReady(ctx, op);
    let here;
    try {
      here = await load(ctx, key, options?.signal);
    } catch (err) {
      throw toContractError(err, op, key);
    }
    if (here === undefined) throw errors.notFound(key, op);
    return { instanceUuid: key, phase: 'NONE' };
  }
  const reading: MigrationProgress = {
    instanceUuid: key,
    phase: run.phase,
    migrationId: run.target.migrationId,
    kind: run.target.kind,
    elapsedMs: Math.max(0, Date.now() - run.startedAt),
  };
  if (run.target.kind !== 'LIVE' || run.phase !== 'COPYING') return reading;
  const figures = await jobFigures(ctx, key, options);
  // The phase may have moved on while the job was read: the reading says where it was asked.
  if (figures === undefined || ctx.migrations.get(key) !== run) return reading;
  const processed = Math.max(run.processed, figures.processed);
  run.processed = processed;
  const total = Math.max(figures.total, processed);
  return { ...reading, dataTotalBytes: total, dataProcessedBytes: processed, dataRemainingBytes: Math.max(0, total - processed) };
}

/** The domain's job figures, or undefined when there is no job (not started yet, or over). */
async function jobFigures(ctx: DriverContext, uuid: string, options?: CallOptions): Promise<{ total: number; processed: number } | undefined> {
  try {
    const stats = numericParams((await ctx.client.getJobStats(ctx.ref(uuid), 0, options?.signal ? { signal: options.signal } : undefined)).params);
    const total = stats['data_total'];
    const processed = stats['data_processed'];
    if (total === undefined || processed === undefined) return undefined;
    return { total, processed };
  } catch {
    // The job ended (or has not begun) between the phase read and the query: no figures this time.
    return undefined;
  }
}
