import { z } from 'zod';
import { IdentifierSchema, NonNegativeIntSchema, PositiveIntSchema } from './common.js';

/**
 * A flavor: the size of an instance. `extraSpecs` follows Nova's conventions; a key
 * `resources:<RESOURCE_CLASS>` overrides the amount of that class the instance consumes
 * (Nova's bare-metal flavors set `resources:CUSTOM_<CLASS>=1` and `resources:VCPU=0`).
 */
export const FlavorSchema = z
  .object({
    id: IdentifierSchema,
    name: IdentifierSchema,
    vcpus: PositiveIntSchema.max(1024),
    memoryMb: PositiveIntSchema.max(16 * 1024 * 1024),
    rootGb: NonNegativeIntSchema.max(1024 * 1024),
    ephemeralGb: NonNegativeIntSchema.max(1024 * 1024).default(0),
    swapMb: NonNegativeIntSchema.max(1024 * 1024).default(0),
    extraSpecs: z.record(z.string().min(1).max(255), z.string().max(255)).default({}),
  })
  .strict();
export type Flavor = z.infer<typeof FlavorSchema>;
export type FlavorInput = z.input<typeof FlavorSchema>;
