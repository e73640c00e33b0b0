import { z } from 'zod';
import { IdentifierSchema, MacAddressSchema, MetadataSchema, UserStringSchema, UuidSchema } from './common.js';
import { PowerStateSchema } from './power-state.js';
import { DeviceNameSchema } from './block-device-info.js';

/** A volume as the driver observes it attached to an instance. */
export const AttachedVolumeSchema = z
  .object({
    volumeId: UuidSchema,
    deviceName: DeviceNameSchema.optional(),
    sizeGb: z.number().int().min(1).optional(),
  })
  .strict();
export type AttachedVolume = z.infer<typeof AttachedVolumeSchema>;

/** An interface as the driver observes it attached to an instance. */
export const AttachedInterfaceSchema = z.object({ id: UuidSchema, address: MacAddressSchema }).strict();
export type AttachedInterface = z.infer<typeof AttachedInterfaceSchema>;

/** `normal`, or `rescue` while booted from a rescue image. */
export const InstanceModeSchema = z.enum(['normal', 'rescue']);
export type InstanceMode = z.infer<typeof InstanceModeSchema>;

/**
 * What get info reports: read from the backend, never from a cache that could be stale.
 * Volumes and interfaces are sorted by id so reports compare across drivers.
 */
export const InstanceInfoSchema = z
  .object({
    uuid: UuidSchema,
    name: UserStringSchema,
    powerState: PowerStateSchema,
    mode: InstanceModeSchema,
    node: IdentifierSchema,
    metadata: MetadataSchema,
    volumes: z.array(AttachedVolumeSchema),
    interfaces: z.array(AttachedInterfaceSchema),
  })
  .strict();
export type InstanceInfo = z.infer<typeof InstanceInfoSchema>;

/** One entry of list instances: only instances this driver created. */
export const InstanceSummarySchema = z
  .object({ uuid: UuidSchema, name: UserStringSchema, node: IdentifierSchema, metadata: MetadataSchema })
  .strict();
export type InstanceSummary = z.infer<typeof InstanceSummarySchema>;
