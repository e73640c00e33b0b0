import { defineDriver } from '@nova-common/core';
import { z } from 'zod';
import { MemoryDriver } from './driver.js';

/** The driver's configuration: `loadDriver` and the conformance CLI parse it with this schema first. */
export const ConfigSchema = z
  .object({
    backend: z.string().min(1).max(64).default('default').describe('Which backend to connect to (the in-memory backend by name).'),
    owner: z.string().min(1).max(255).default(@@NAME_LITERAL@@).describe('The mark put on every machine this driver makes; it lists and destroys only those.'),
    node: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be a node name: letters, digits, ".", "_", "-"')
      .default('node-1')
      .describe('The name of the one node this driver reports.'),
    vcpus: z.number().int().min(1).max(4096).default(16).describe('VCPUs the node offers.'),
    memoryMb: z.number().int().min(1).max(16_777_216).default(65_536).describe('Memory the node offers, in MiB.'),
    diskGb: z.number().int().min(1).max(1_048_576).default(1024).describe('Disk the node offers, in GiB.'),
  })
  .strict();
export type Config = z.output<typeof ConfigSchema>;

export const manifest = defineDriver({
  name: @@NAME_LITERAL@@,
  version: '0.1.0',
  contract: '^1.2.0',
  description: @@DESCRIPTION_LITERAL@@,
  configSchema: ConfigSchema,
  create: (config) => new MemoryDriver(config),
});
