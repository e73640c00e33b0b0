import { z } from 'zod';
import { IdentifierSchema, NonNegativeIntSchema, UserStringSchema, UuidSchema } from './common.js';
import { PowerStateSchema } from './power-state.js';
import { ContainerFormatSchema, DiskFormatSchema } from './image-meta.js';

/** The tail of an instance's console log. */
export const ConsoleOutputSchema = z
  .object({ output: z.string(), truncated: z.boolean() })
  .strict();
export type ConsoleOutput = z.infer<typeof ConsoleOutputSchema>;

/** The image a snapshot produced; the caller owns it and removes it with deleteSnapshot. */
export const SnapshotResultSchema = z
  .object({
    imageId: IdentifierSchema,
    name: UserStringSchema,
    diskFormat: DiskFormatSchema,
    containerFormat: ContainerFormatSchema,
    sizeBytes: NonNegativeIntSchema.optional(),
  })
  .strict();
export type SnapshotResult = z.infer<typeof SnapshotResultSchema>;

/** Lifecycle event kinds, as Nova names them (nova/virt/event.py). */
export const LifecycleEventKindSchema = z.enum(['STARTED', 'STOPPED', 'PAUSED', 'RESUMED', 'SUSPENDED', 'CRASHED']);
export type LifecycleEventKind = z.infer<typeof LifecycleEventKindSchema>;

/**
 * Why a transition happened: a call of this driver asked for it (`requested`), or nothing did
 * (`out-of-band`: the guest shut itself down or crashed, an operator acted on the backend).
 */
export const EventCauseSchema = z.enum(['requested', 'out-of-band']);
export type EventCause = z.infer<typeof EventCauseSchema>;

/**
 * A power transition the driver observed, for an instance it manages. `cause` (since 1.1.0) is
 * set by drivers that know it; `seq` (since 1.1.0) is set by the guard: per instance, 1, 2, 3...
 * in delivery order, so a listener sees a gap and knows to resynchronise (listInstances, then
 * getInfo of each).
 */
export const LifecycleEventSchema = z
  .object({
    uuid: UuidSchema,
    kind: LifecycleEventKindSchema,
    powerState: PowerStateSchema,
    node: IdentifierSchema,
    timestamp: z.iso.datetime(),
    cause: EventCauseSchema.optional(),
    seq: z.number().int().min(1).optional(),
  })
  .strict();
export type LifecycleEvent = z.infer<typeof LifecycleEventSchema>;
