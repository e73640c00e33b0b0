import { z } from 'zod';
import { MANDATORY_CAPABILITIES, type CapabilityId } from '../capabilities/catalog.js';
import { CapabilityIdSchema } from '../capabilities/driver-capabilities.js';

/** The custom resource class each node of a multi-node reference driver offers one unit of. */
export const REFERENCE_NODE_RESOURCE_CLASS = 'CUSTOM_REFERENCE_NODE';

/** What every node of the reference driver holds. Allocation ratios default to Nova's (16 / 1.5 / 1) on one node, 1 on many. */
export const ReferenceCapacitySchema = z
  .object({
    vcpus: z.number().int().min(1).max(1_000_000).default(64).describe('Physical CPUs of each node (VCPU total).'),
    memoryMb: z.number().int().min(1).max(1_000_000_000).default(262_144).describe('Memory of each node in MiB (MEMORY_MB total).'),
    diskGb: z.number().int().min(1).max(1_000_000_000).default(4096).describe('Local disk of each node in GiB (DISK_GB total).'),
    reservedVcpus: z.number().int().min(0).default(0).describe('VCPUs of each node kept for the host (VCPU reserved).'),
    reservedMemoryMb: z.number().int().min(0).default(0).describe('Memory of each node kept for the host, in MiB (MEMORY_MB reserved).'),
    reservedDiskGb: z.number().int().min(0).default(0).describe('Disk of each node kept for the host, in GiB (DISK_GB reserved).'),
    cpuAllocationRatio: z
      .number()
      .positive()
      .max(1000)
      .optional()
      .describe('VCPU overcommit ratio; default 16 with one node, 1 with many (bare metal does not overcommit).'),
    ramAllocationRatio: z
      .number()
      .positive()
      .max(1000)
      .optional()
      .describe('MEMORY_MB overcommit ratio; default 1.5 with one node, 1 with many.'),
    diskAllocationRatio: z.number().positive().max(1000).optional().describe('DISK_GB overcommit ratio; default 1.'),
  })
  .strict()
  .refine((c) => c.reservedVcpus <= c.vcpus, { message: 'reservedVcpus must not exceed vcpus', path: ['reservedVcpus'] })
  .refine((c) => c.reservedMemoryMb <= c.memoryMb, { message: 'reservedMemoryMb must not exceed memoryMb', path: ['reservedMemoryMb'] })
  .refine((c) => c.reservedDiskGb <= c.diskGb, { message: 'reservedDiskGb must not exceed diskGb', path: ['reservedDiskGb'] });
export type ReferenceCapacity = z.infer<typeof ReferenceCapacitySchema>;

/** Configuration of the reference driver. Every field is optional. */
export const ReferenceDriverConfigSchema = z
  .object({
    nodes: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(1)
      .describe(
        `Number of nodes. 1 is a hypervisor holding any number of instances; more is bare metal: each node holds at most one instance and also offers one unit of ${REFERENCE_NODE_RESOURCE_CLASS}.`,
      ),
    capacity: ReferenceCapacitySchema.default(ReferenceCapacitySchema.parse({})).describe('Resources of each node.'),
    disabledCapabilities: z
      .array(CapabilityIdSchema)
      .max(64)
      .default([])
      .refine((ids) => ids.every((id) => !MANDATORY_CAPABILITIES.includes(id as CapabilityId)), {
        message: `mandatory capabilities (${MANDATORY_CAPABILITIES.join(', ')}) cannot be disabled`,
      })
      .describe('Capability ids declared missing; their methods then reject with UNSUPPORTED and change nothing.'),
    releaseDelayMs: z
      .number()
      .int()
      .min(0)
      .max(3_600_000)
      .default(0)
      .describe(
        'Simulated asynchronous cleaning: after destroy the resources stay counted as used (and, with many nodes, the node stays unavailable as `cleaning`) for this long. Declared in capabilities.eventualConsistency.',
      ),
    eventDelayMs: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .default(0)
      .describe('Lifecycle events are delivered this long after the transition (0: before the operation resolves). Declared as eventDeliveryMs.'),
    consoleLogLimit: z
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .default(200)
      .describe('Most console log lines kept per instance; older lines are dropped and getConsoleOutput reports `truncated`.'),
  })
  .strict();

export type ReferenceDriverConfig = z.input<typeof ReferenceDriverConfigSchema>;
export type ResolvedReferenceDriverConfig = z.infer<typeof ReferenceDriverConfigSchema>;
