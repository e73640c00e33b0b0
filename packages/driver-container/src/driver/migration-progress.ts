import { Readable } from 'node:stream';
import { DriverError, errors, type MigrationPhase, type MigrationProgress, type MigrationTarget } from '@nova-common/core';
import type { EngineContext } from './context.js';
import { locate } from './instances.js';
import { PLUGGED_MIGRATION, plugsConfigured } from './plugs.js';

/** A migration running with this engine as its source: what getMigrationProgress reads. */
export interface RunningMigration {
  readonly target: MigrationTarget;
  readonly startedAt: number;
  phase: Exclude<MigrationPhase, 'NONE'>;
  /** Bytes of the container's image streamed from this engine's `save` into the destination's `load`. */
  sent: number;
}

/** Mark the instance's migration as started here (COPYING); the returned function ends it. */
export function trackMigration(ctx: EngineContext, uuid: string, target: MigrationTarget): () => void {
  const run: RunningMigration = { target, startedAt: Date.now(), phase: 'COPYING', sent: 0 };
  ctx.migrations.set(uuid, run);
  return () => {
    if (ctx.migrations.get(uuid) === run) ctx.migrations.delete(uuid);
  };
}

/** The next phase of the instance's running migration (phases only move forward). */
export function enterPhase(ctx: EngineContext, uuid: string, phase: 'SWITCHING' | 'CLEANING'): void {
  const run = ctx.migrations.get(uuid);
  if (run !== undefined && (run.phase === 'COPYING' || phase === 'CLEANING')) run.phase = phase;
}

/** The image stream `tar`, counting what the destination's load has taken into the instance's migration. */
export function countedTransfer(ctx: EngineContext, uuid: string, tar: Readable): Readable {
  const run = ctx.migrations.get(uuid);
  if (run === undefined) return tar;
  return Readable.from(
    (async function* () {
      for await (const chunk of tar) {
        run.sent += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    })(),
    { objectMode: false },
  );
}

/**
 * SOURCE: where the instance's migration stands. The data figure is what has been streamed
 * from `save` into the destination's `load`; the total is not known before the stream ends
 * (an engine's image size is not the size of its tar), so it is left out.
 */
export async function getMigrationProgress(ctx: EngineContext, uuid: string, signal?: AbortSignal): Promise<MigrationProgress> {
  const run = ctx.migrations.get(uuid);
  // With plugs configured only resizes in place run here (operation.migrate is missing).
  if (plugsConfigured(ctx) && run?.target.sameHost !== true) {
    throw new DriverError('UNSUPPORTED', { op: 'getMigrationProgress', target: uuid, capability: 'operation.migrate', detail: PLUGGED_MIGRATION });
  }
  if (run === undefined) {
    if ((await locate(ctx, uuid, signal)) === undefined) throw errors.notFound(uuid, 'getMigrationProgress');
    return { instanceUuid: uuid, phase: 'NONE' };
  }
  return {
    instanceUuid: uuid,
    phase: run.phase,
    migrationId: run.target.migrationId,
    kind: run.target.kind,
    elapsedMs: Math.max(0, Date.now() - run.startedAt),
    ...(run.target.sameHost ? {} : { dataProcessedBytes: run.sent }),
  };
}
