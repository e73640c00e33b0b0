import { z } from 'zod';
import { IdentifierSchema, MetadataSchema, UserStringSchema, UuidSchema } from './common.js';
import { FlavorSchema } from './flavor.js';
import { ImageMetaSchema } from './image-meta.js';
import { NetworkInfoSchema } from './network-info.js';
import { BlockDeviceInfoSchema } from './block-device-info.js';

/** Base64 text (RFC 4648, padded). */
const Base64Schema = z.base64();

/**
 * Everything a driver needs to create an instance. The orchestrator owns the uuid;
 * a driver never invents one. `node` picks a node on multi-node drivers (bare metal);
 * without it the driver chooses an available node.
 */
export const InstanceSpecSchema = z
  .object({
    uuid: UuidSchema,
    name: UserStringSchema.min(1),
    flavor: FlavorSchema,
    image: ImageMetaSchema,
    metadata: MetadataSchema.default({}),
    // 64 KiB of user data (Nova's limit), padded base64: ceil(65536 / 3) * 4 = 87384 characters.
    userData: Base64Schema.max(Math.ceil(65536 / 3) * 4).optional(),
    keyData: z.string().max(16384).optional(),
    networkInfo: NetworkInfoSchema.default([]),
    blockDeviceInfo: BlockDeviceInfoSchema.default({ ephemerals: [], volumes: [] }),
    powerOn: z.boolean().default(true),
    node: IdentifierSchema.optional(),
  })
  .strict();
export type InstanceSpec = z.infer<typeof InstanceSpecSchema>;
export type InstanceSpecInput = z.input<typeof InstanceSpecSchema>;

/** Arguments of rebuild: a new image (and optionally new metadata) for an existing instance. */
export const RebuildSpecSchema = z
  .object({
    image: ImageMetaSchema,
    metadata: MetadataSchema.optional(),
    preserveEphemeral: z.boolean().default(false),
  })
  .strict();
export type RebuildSpec = z.infer<typeof RebuildSpecSchema>;
export type RebuildSpecInput = z.input<typeof RebuildSpecSchema>;

/** Arguments of rescue: the image to boot from (the instance's own image when absent). */
export const RescueSpecSchema = z
  .object({ image: ImageMetaSchema.optional(), adminPassword: z.string().max(255).optional() })
  .strict();
export type RescueSpec = z.infer<typeof RescueSpecSchema>;
export type RescueSpecInput = z.input<typeof RescueSpecSchema>;

/** Arguments of snapshot: the name for the image to produce. */
export const SnapshotSpecSchema = z.object({ name: UserStringSchema.min(1) }).strict();
export type SnapshotSpec = z.infer<typeof SnapshotSpecSchema>;

export const RebootTypeSchema = z.enum(['SOFT', 'HARD']);
export type RebootType = z.infer<typeof RebootTypeSchema>;
