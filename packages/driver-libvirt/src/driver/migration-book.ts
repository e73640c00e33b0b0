import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { MigrationTarget } from '@nova-common/core';
import * as files from '../host-files.js';
import type { DriverContext } from './context.js';
import type { Usage } from './owned-index.js';

/**
 * The destination's books of migrations: one small JSON file per prepared migration under
 * `<instancesDir>/.migrations/`, so that a reservation outlives the driver object (and the
 * process) that made it, as the caller's migration does: a later driver of this host still
 * counts it in the inventory and can finish or abort it. A finished migration leaves a
 * marker file, so a repeated finish succeeds and abort refuses it.
 */
export interface PreparedMigration {
  target: MigrationTarget;
  /** What the target flavor uses, counted in `used` while the instance has not arrived. */
  usage: Usage;
  /** When it was prepared (ISO time), for an operator reading the directory. */
  since: string;
  /**
   * A resize in place (sameHost) that migrate has done: the instance never leaves, so its
   * arrival is this mark (finish closes it, abort refuses it), and its new flavor is counted
   * by the owned tally from then on.
   */
  delivered?: boolean;
}

function bookDir(ctx: DriverContext): string {
  return files.inside(ctx.config.instancesDir, '.migrations');
}

/** The books are private; the instances directory stays traversable for QEMU (a recursive mkdir would make it private too). */
async function ensureBookDir(ctx: DriverContext): Promise<void> {
  await files.ensureDir(ctx.config.instancesDir);
  await mkdir(bookDir(ctx), { recursive: true, mode: 0o700 });
}

function preparedPath(ctx: DriverContext, migrationId: string): string {
  return files.inside(bookDir(ctx), `${migrationId}.json`);
}

function finishedPath(ctx: DriverContext, migrationId: string): string {
  return files.inside(bookDir(ctx), `${migrationId}.finished`);
}

export async function readPrepared(ctx: DriverContext, migrationId: string): Promise<PreparedMigration | undefined> {
  try {
    return JSON.parse(await readFile(preparedPath(ctx, migrationId), 'utf8')) as PreparedMigration;
  } catch {
    return undefined;
  }
}

/** Every prepared (not finished, not aborted) migration of this host. */
export async function listPrepared(ctx: DriverContext): Promise<PreparedMigration[]> {
  let names: string[];
  try {
    names = await readdir(bookDir(ctx));
  } catch {
    return [];
  }
  const ids = names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length));
  const all = await Promise.all(ids.map((id) => readPrepared(ctx, id)));
  return all.filter((p): p is PreparedMigration => p !== undefined);
}

/** Write the reservation whole (a temporary file renamed): a reader never sees half of it. */
export async function writePrepared(ctx: DriverContext, p: PreparedMigration): Promise<void> {
  await ensureBookDir(ctx);
  const path = preparedPath(ctx, p.target.migrationId);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(p), { mode: 0o600 });
  await rename(tmp, path);
}

export async function isFinished(ctx: DriverContext, migrationId: string): Promise<boolean> {
  return files.exists(finishedPath(ctx, migrationId));
}

/** The reservation becomes the instance's: the marker first, then the reservation goes. */
export async function markFinished(ctx: DriverContext, migrationId: string): Promise<void> {
  await ensureBookDir(ctx);
  await writeFile(finishedPath(ctx, migrationId), new Date().toISOString(), { mode: 0o600 });
  await rm(preparedPath(ctx, migrationId), { force: true });
}

export async function removePrepared(ctx: DriverContext, migrationId: string): Promise<void> {
  await rm(preparedPath(ctx, migrationId), { force: true });
}

/**
 * What prepared migrations hold in this host's inventory: each one's usage until its
 * instance has arrived (then the instance's domain counts, in the owned tally). A resize in
 * place holds its new flavor beside the instance's current one until migrate has resized it.
 */
export async function reservedUsages(ctx: DriverContext): Promise<Usage[]> {
  const prepared = await listPrepared(ctx);
  const holds = (p: PreparedMigration): boolean => (p.target.sameHost ? p.delivered !== true : !ctx.owned.lookup(p.target.instanceUuid));
  return prepared.filter(holds).map((p) => p.usage);
}
