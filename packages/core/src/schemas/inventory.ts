import { z } from 'zod';
import { IdentifierSchema, NonNegativeIntSchema, PositiveIntSchema, UuidSchema } from './common.js';

/** Placement resource classes: the standard ones, or CUSTOM_* (Nova's bare-metal classes). */
export const ResourceClassSchema = z
  .string()
  .regex(/^([A-Z][A-Z0-9_]*|CUSTOM_[A-Z0-9_]+)$/, 'must be a resource class like VCPU or CUSTOM_BAREMETAL');
export type ResourceClass = z.infer<typeof ResourceClassSchema>;

/**
 * One resource class on one node, in Placement's terms, plus `used`: what this driver's
 * instances consume. Free capacity is `(total - reserved) * allocationRatio - used`.
 */
export const InventoryRecordSchema = z
  .object({
    total: NonNegativeIntSchema,
    reserved: NonNegativeIntSchema,
    used: NonNegativeIntSchema,
    minUnit: PositiveIntSchema,
    maxUnit: PositiveIntSchema,
    stepSize: PositiveIntSchema,
    allocationRatio: z.number().positive().max(1000),
  })
  .strict()
  .refine((r) => r.reserved <= r.total, { message: 'reserved must not exceed total', path: ['reserved'] })
  .refine((r) => r.minUnit <= r.maxUnit, { message: 'minUnit must not exceed maxUnit', path: ['minUnit'] });
export type InventoryRecord = z.infer<typeof InventoryRecordSchema>;

/** Traits: standard (HW_CPU_X86_AVX2) or CUSTOM_*. */
export const TraitSchema = z.string().regex(/^[A-Z][A-Z0-9_]{0,254}$/, 'must be a trait like HW_CPU_X86_AVX2 or CUSTOM_RAID');

export const NodeInventorySchema = z
  .object({
    node: IdentifierSchema,
    resources: z.record(ResourceClassSchema, InventoryRecordSchema),
    traits: z.array(TraitSchema),
  })
  .strict();
export type NodeInventory = z.infer<typeof NodeInventorySchema>;

/** The inventory of every node this host manages, in one answer. */
export const HostInventorySchema = z.object({ nodes: z.array(NodeInventorySchema) }).strict();
export type HostInventory = z.infer<typeof HostInventorySchema>;

/** Why a node cannot take a new instance now. */
export const NodeUnavailableReasonSchema = z.enum([
  'maintenance',
  'no-power-state',
  'in-use',
  'cleaning',
  'not-available',
  'error',
]);
export type NodeUnavailableReason = z.infer<typeof NodeUnavailableReasonSchema>;

/** A node this host manages: the host itself for a hypervisor, or one bare-metal machine. */
export const NodeInfoSchema = z
  .object({
    id: IdentifierSchema,
    available: z.boolean(),
    unavailableReason: NodeUnavailableReasonSchema.optional(),
    instanceUuid: UuidSchema.optional(),
  })
  .strict()
  .refine((n) => n.available === (n.unavailableReason === undefined), {
    message: 'unavailableReason is set exactly when the node is unavailable',
    path: ['unavailableReason'],
  });
export type NodeInfo = z.infer<typeof NodeInfoSchema>;
