import { z } from 'zod';
import type { MigrationTarget } from '@nova-common/core';
import type { Naming } from './labels.js';

/**
 * Migration between two engines: what a destination tells its source (the target's address),
 * and the names and labels of what a migration makes. Pure; the driver's steps are in
 * driver/migration.ts and driver/reservations.ts.
 *
 * Both ends run this driver's code, so the source creates the instance's container on the
 * destination engine itself, in the destination driver's way: the address carries the
 * destination's socket and the settings its containers are made with (naming, init, stop
 * period, pids limit). The container is then the destination driver's as soon as it carries
 * the instance name there, with no adoption step in finishMigration.
 */

/** The settings of a destination driver a source needs to make containers it will own. */
export const MigrationAddressSchema = z
  .object({
    v: z.literal(1),
    /** The destination engine's unix socket, as the source reaches it (same host: the same path). */
    socket: z.string().regex(/^\//).max(1024),
    namePrefix: z.string().regex(/^[a-z0-9][a-z0-9-]{0,19}$/),
    labelPrefix: z.string().regex(/^[a-z0-9]+(\.[a-z0-9-]+)*$/).max(200),
    ownerId: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
    init: z.boolean(),
    stopTimeoutSeconds: z.number().int().min(0).max(600),
    pidsLimit: z.number().int().min(16).max(4_194_304),
    /** The destination engine's CPUs (NanoCpus are capped there), so the source need not ask its slow /info (podman: about 1 s). */
    cpus: z.number().int().min(1).max(65_536),
    /** Which engine serves that socket, and the API version its driver speaks: the source need not ask (podman's /version takes about 1 s). */
    engine: z.enum(['docker', 'podman']),
    apiVersion: z.string().regex(/^1\.\d{2}$/),
  })
  .strict();
export type MigrationAddress = z.infer<typeof MigrationAddressSchema>;

/** The prefix that marks an address as this driver's (a libvirt URI, say, is refused on sight). */
const SCHEME = 'nova-container+json:';

export function encodeAddress(a: MigrationAddress): string {
  return SCHEME + JSON.stringify(a);
}

/** The address read back; a reason when it is not one this driver wrote. */
export function decodeAddress(text: string): MigrationAddress | string {
  if (!text.startsWith(SCHEME)) return `is not a container engine address (${SCHEME}...)`;
  let raw: unknown;
  try {
    raw = JSON.parse(text.slice(SCHEME.length));
  } catch {
    return 'is not valid JSON after the scheme';
  }
  const parsed = MigrationAddressSchema.safeParse(raw);
  if (!parsed.success) return `is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`;
  return parsed.data;
}

/** The naming a destination's address gives (its containers' names and labels). */
export function namingOf(a: MigrationAddress): Naming {
  return { namePrefix: a.namePrefix, labelPrefix: a.labelPrefix, ownerId: a.ownerId };
}

/** Label keys of migrations (same prefix as the driver's other labels). */
export function migrationKeys(n: Naming): { migrationId: string; target: string } {
  return { migrationId: `${n.labelPrefix}.migration-id`, target: `${n.labelPrefix}.migration-target` };
}

/**
 * The reservation a prepared migration holds on its destination: an engine volume (an empty
 * directory, the smallest object both engines label and list by label), named after the
 * migration and carrying the target it answered. It lives in the engine, so it survives a new
 * driver object or process, and the source can check it through the same socket it migrates to.
 */
export function reservationName(n: Naming, migrationId: string): string {
  return `${n.namePrefix}-migration-${migrationId}`;
}

/**
 * The mark a migration that delivered its instance leaves beside its reservation until it is
 * finished: an engine volume like the reservation, made by the source once the instance carries
 * its name on the destination. While the instance stays, its container's migration-id label says
 * the same; the mark still holds once the instance has left again or was destroyed (the
 * migration delivered: finish closes it, abort refuses it, the reservation no longer counts).
 */
export function deliveredName(n: Naming, migrationId: string): string {
  return `${n.namePrefix}-migration-${migrationId}-delivered`;
}

export function deliveredLabels(n: Naming, migrationId: string): Record<string, string> {
  return {
    [`${n.labelPrefix}.owner`]: n.ownerId,
    [`${n.labelPrefix}.kind`]: 'migration-delivered',
    [migrationKeys(n).migrationId]: migrationId,
  };
}

/** The migration id a delivered mark's labels carry; undefined when they are not an owned mark's. */
export function deliveredIdOf(n: Naming, labels: Record<string, string> | null | undefined): string | undefined {
  if (!labels || labels[`${n.labelPrefix}.owner`] !== n.ownerId || labels[`${n.labelPrefix}.kind`] !== 'migration-delivered') return undefined;
  return labels[migrationKeys(n).migrationId];
}

/** The file name of the marker a finished migration leaves (R-MIGRATE-ABORT: never aborted, also once its instance left again). */
export function finishedName(n: Naming, migrationId: string): string {
  return `${n.namePrefix}-migration-${migrationId}.finished`;
}

export function reservationLabels(n: Naming, target: MigrationTarget): Record<string, string> {
  const k = migrationKeys(n);
  return {
    [`${n.labelPrefix}.owner`]: n.ownerId,
    [`${n.labelPrefix}.kind`]: 'migration',
    [`${n.labelPrefix}.uuid`]: target.instanceUuid,
    [k.migrationId]: target.migrationId,
    [k.target]: JSON.stringify(target),
  };
}

/** The target a reservation's labels carry; undefined when they are not an owned reservation's. */
export function targetOfReservation(n: Naming, labels: Record<string, string> | null | undefined): MigrationTarget | undefined {
  if (!labels || labels[`${n.labelPrefix}.owner`] !== n.ownerId || labels[`${n.labelPrefix}.kind`] !== 'migration') return undefined;
  try {
    return JSON.parse(labels[migrationKeys(n).target] ?? '') as MigrationTarget;
  } catch {
    return undefined;
  }
}

/**
 * The image that carries the instance's filesystem from one engine to the other: committed on the
 * source, saved, loaded on the destination. Tagged per migration so two attempts never share it.
 */
export function transferImage(n: Naming, uuid: string, migrationId: string): { repo: string; tag: string; ref: string } {
  const repo = `${n.namePrefix}-migration/${uuid}`;
  const tag = migrationId.slice(0, 8);
  return { repo, tag, ref: `${repo}:${tag}` };
}

/**
 * The name the source container takes for the moment of the switch: not an instance name (so the
 * source no longer lists it) and not a spawn's or replacement's (so no startup sweep removes it).
 */
export function handedOverName(n: Naming, uuid: string): string {
  return `${n.namePrefix}-migrated-${uuid}`;
}

/** Whether an engine's /images/load answer (a JSON message stream, status 200 even on failure) reports an error. */
export function loadError(answer: string): string | undefined {
  for (const line of answer.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    try {
      const m = JSON.parse(t) as { error?: unknown; errorDetail?: { message?: unknown } };
      if (typeof m.error === 'string') return m.error;
      if (typeof m.errorDetail?.message === 'string') return m.errorDetail.message;
    } catch {
      // not a JSON line: podman may answer plain text on success
    }
  }
  return undefined;
}
