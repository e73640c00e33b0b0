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

/** A power transition the driver observed, for an instance it manages. */
export const LifecycleEventSchema = z
  .object({
    uuid: UuidSchema,
    kind: LifecycleEventKindSchema,
    powerState: PowerStateSchema,
    node: IdentifierSchema,
    timestamp: z.iso.datetime(),
  })
  .strict();
export type LifecycleEvent = z.infer<typeof LifecycleEventSchema>;
