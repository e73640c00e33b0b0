import { z } from 'zod';
import { IdentifierSchema, UuidSchema } from './common.js';
import { FlavorSchema } from './flavor.js';
import { InstanceSpecSchema } from './instance-spec.js';

/**
 * How an instance moves between two hosts (since 1.2.0).
 * - LIVE: the guest keeps running while its memory is copied; it pauses only for the last
 *   copy (the downtime). Allowed from RUNNING and PAUSED, which it keeps.
 * - COLD: the instance is stopped, its disk copied, and it is started again on the destination
 *   if it ran before. With a `flavor` other than the instance's it is a resize; with the
 *   destination being the source's own host it is a resize in place.
 */
export const MigrationKindSchema = z.enum(['LIVE', 'COLD']);
export type MigrationKind = z.infer<typeof MigrationKindSchema>;

/** A driver's kind name as its manifest gives it (`libvirt`, `container`, `reference`): migrations only go between two of one kind. */
export const DriverKindSchema = IdentifierSchema;

/**
 * What the caller asks a destination to prepare. `instance` is the instance as it is now on
 * the source (the caller's record: its current volumes, interfaces and metadata); the
 * destination checks that it can hold it and reserves room for it.
 */
export const MigrationRequestSchema = z
  .object({
    /** The caller's id for this migration; prepare is idempotent under it. */
    migrationId: UuidSchema,
    kind: MigrationKindSchema,
    /** The kind of the source's driver; a destination of another kind refuses (INVALID_INPUT on `sourceDriver`). */
    sourceDriver: DriverKindSchema,
    /** Whether the source is this very host (a resize in place); the destination refuses if it cannot. */
    sameHost: z.boolean().default(false),
    instance: InstanceSpecSchema,
    /** The flavor on the destination: a resize when it differs from `instance.flavor`. Default: unchanged. */
    flavor: FlavorSchema.optional(),
  })
  .strict()
  // R-MIGRATE-LIVE-FLAVOR: a running guest's memory and CPUs move as they are; a resize is COLD.
  .superRefine((r, ctx) => {
    if (r.kind === 'LIVE' && r.flavor !== undefined && JSON.stringify(r.flavor) !== JSON.stringify(r.instance.flavor)) {
      ctx.addIssue({ code: 'custom', path: ['flavor'], message: 'a live migration keeps the flavor: resize with a COLD migration' });
    }
  });
export type MigrationRequest = z.infer<typeof MigrationRequestSchema>;
export type MigrationRequestInput = z.input<typeof MigrationRequestSchema>;

/**
 * What a destination answers to prepare: where the source sends the instance. `address` is
 * the destination backend's address in the form the source's driver (of the same kind)
 * understands, for example a libvirt URI or an engine's socket; the caller passes the whole
 * target to the source unchanged.
 */
export const MigrationTargetSchema = z
  .object({
    migrationId: UuidSchema,
    kind: MigrationKindSchema,
    /** The destination's driver kind; the source refuses a target of another kind. */
    driver: DriverKindSchema,
    /** The instance this target was prepared for. */
    instanceUuid: UuidSchema,
    /** The node of the destination that will hold the instance. */
    node: IdentifierSchema,
    /** The flavor the instance will have there. */
    flavor: FlavorSchema,
    /** Whether this target is the source's own host (a resize in place). */
    sameHost: z.boolean(),
    address: z.string().min(1).max(4096),
  })
  .strict();
export type MigrationTarget = z.infer<typeof MigrationTargetSchema>;

/**
 * Where a migration of an instance stands on its source (since 1.2.0), as getMigrationProgress
 * reads it while migrate runs:
 * - NONE: no migration of the instance runs on this host;
 * - COPYING: its memory (LIVE, the guest running) or its disks (COLD, the guest stopped) are copied;
 * - SWITCHING: the last copy, or the start on the destination: a LIVE guest is paused (the downtime);
 * - CLEANING: the instance is on the destination; the source removes what it left here.
 */
export const MigrationPhaseSchema = z.enum(['NONE', 'COPYING', 'SWITCHING', 'CLEANING']);
export type MigrationPhase = z.infer<typeof MigrationPhaseSchema>;

const Bytes = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * A reading of a migration's progress on its source. The byte figures are what the backend
 * reports (a driver that cannot measure them leaves them out): the data the move has to send
 * in all, what it has sent, and what is left. For one migration, `dataProcessedBytes` never
 * decreases, and the phases follow each other in the order above.
 */
export const MigrationProgressSchema = z
  .object({
    instanceUuid: UuidSchema,
    phase: MigrationPhaseSchema,
    /** The migration running (absent when the phase is NONE). */
    migrationId: UuidSchema.optional(),
    kind: MigrationKindSchema.optional(),
    /** Milliseconds since migrate started on this host. */
    elapsedMs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    dataTotalBytes: Bytes.optional(),
    dataProcessedBytes: Bytes.optional(),
    dataRemainingBytes: Bytes.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const running = p.phase !== 'NONE';
    for (const field of ['migrationId', 'kind'] as const) {
      if (running && p[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `a ${p.phase} migration names its ${field}` });
      if (!running && p[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'no migration runs (phase NONE)' });
    }
    if (p.dataTotalBytes !== undefined && p.dataProcessedBytes !== undefined && p.dataProcessedBytes > p.dataTotalBytes) {
      ctx.addIssue({ code: 'custom', path: ['dataProcessedBytes'], message: 'more data processed than there is in all' });
    }
  });
export type MigrationProgress = z.infer<typeof MigrationProgressSchema>;
