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
   * Set once migrate has delivered the instance (by the source, in these books, or by a resize
   * in place on its own host): finish closes the migration, abort refuses it, and the
   * instance's domain is counted by the owned tally from then on instead of the reservation.
   */
  delivered?: boolean;
}

/** The books of the host whose instances directory is `instancesDir`. */
function booksOf(instancesDir: string): string {
  return files.inside(instancesDir, '.migrations');
}

function bookDir(ctx: DriverContext): string {
  return booksOf(ctx.config.instancesDir);
}

/** The books are private; the instances directory stays traversable for QEMU (a recursive mkdir would make it private too). */
async function ensureBookDir(ctx: DriverContext): Promise<void> {
  await files.ensureDir(ctx.config.instancesDir);
  await mkdir(bookDir(ctx), { recursive: true, mode: 0o700 });
}

function preparedPath(ctx: DriverContext, migrationId: string): string {
  return preparedPathIn(ctx.config.instancesDir, migrationId);
}

function preparedPathIn(instancesDir: string, migrationId: string): string {
  return files.inside(booksOf(instancesDir), `${migrationId}.json`);
}

function finishedPath(ctx: DriverContext, migrationId: string): string {
  return files.inside(bookDir(ctx), `${migrationId}.finished`);
}

export async function readPrepared(ctx: DriverContext, migrationId: string): Promise<PreparedMigration | undefined> {
  return readPreparedIn(ctx.config.instancesDir, migrationId);
}

/** A prepared migration in the books of the host whose instances directory is `instancesDir` (the source reads its destination's). */
export async function readPreparedIn(instancesDir: string, migrationId: string): Promise<PreparedMigration | undefined> {
  try {
    return JSON.parse(await readFile(preparedPathIn(instancesDir, migrationId), 'utf8')) as PreparedMigration;
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
  await writePreparedIn(ctx.config.instancesDir, p);
}

async function writePreparedIn(instancesDir: string, p: PreparedMigration): Promise<void> {
  const path = preparedPathIn(instancesDir, p.target.migrationId);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(p), { mode: 0o600 });
  await rename(tmp, path);
}

/**
 * Written by the SOURCE into the destination's books once the instance is there: the
 * reservation is then the instance's own usage, finishMigration closes it and abortMigration
 * refuses it (R-MIGRATE-RESERVE, R-MIGRATE-ABORT). Only this migration's: another one prepared
 * for the same instance keeps holding its room until it is finished or aborted.
 */
export async function markDeliveredIn(instancesDir: string, p: PreparedMigration): Promise<void> {
  await writePreparedIn(instancesDir, { ...p, delivered: true });
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
  await rm(rolledBackPath(ctx.config.instancesDir, migrationId), { force: true });
}

function rolledBackPath(instancesDir: string, migrationId: string): string {
  return files.inside(booksOf(instancesDir), `${migrationId}.rolled-back`);
}

/**
 * Written by the SOURCE into the destination's books (the instances directory both hosts
 * reach, as the cold copy does) when a move it rolled back may have left a domain there
 * (migration-undo.ts): that domain is a leftover, which abortMigration removes.
 */
export async function markRolledBack(instancesDir: string, migrationId: string): Promise<void> {
  await mkdir(booksOf(instancesDir), { recursive: true, mode: 0o700 });
  await writeFile(rolledBackPath(instancesDir, migrationId), new Date().toISOString(), { mode: 0o600 });
}

export async function isRolledBack(ctx: DriverContext, migrationId: string): Promise<boolean> {
  return files.exists(rolledBackPath(ctx.config.instancesDir, migrationId));
}

/**
 * What prepared migrations hold in this host's inventory: each one's usage until it has
 * delivered its instance (then the instance's domain counts, in the owned tally). A resize in
 * place holds its new flavor beside the instance's current one until migrate has resized it.
 * An instance that came here otherwise (spawned: an evacuation; or by another migration) does
 * not release a reservation: that is released by its own finish or abort.
 */
export async function reservedUsages(ctx: DriverContext): Promise<Usage[]> {
  const prepared = await listPrepared(ctx);
  return prepared.filter((p) => p.delivered !== true).map((p) => p.usage);
}
