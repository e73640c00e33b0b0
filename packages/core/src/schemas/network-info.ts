import { z } from 'zod';
import { IdentifierSchema, MacAddressSchema, UuidSchema } from './common.js';

/**
 * A Linux interface name: at most 15 bytes (IFNAMSIZ), never starting with `-` or `.`, so it
 * can never be read as an option by a host tool nor name `.` or `..`.
 */
export const InterfaceNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/, 'must be a Linux interface name (letters, digits, _ . -, at most 15, not starting with - or .)');

export const IpAddressSchema = z.union([z.ipv4(), z.ipv6()]);
export const CidrSchema = z.union([z.cidrv4(), z.cidrv6()]);

export const FixedIpSchema = z
  .object({ address: IpAddressSchema, type: z.enum(['fixed', 'floating']).default('fixed') })
  .strict();

export const SubnetSchema = z
  .object({
    cidr: CidrSchema,
    gateway: IpAddressSchema.optional(),
    ips: z.array(FixedIpSchema).max(64).default([]),
    dns: z.array(IpAddressSchema).max(8).default([]),
  })
  .strict();

export const NetworkSchema = z
  .object({
    id: IdentifierSchema,
    label: IdentifierSchema.optional(),
    bridge: InterfaceNameSchema.optional(),
    mtu: z.number().int().min(68).max(65535).optional(),
    subnets: z.array(SubnetSchema).max(16).default([]),
  })
  .strict();

export const VifTypeSchema = z.enum(['bridge', 'ovs', 'tap', 'vhostuser', 'hw_veb', 'hostdev_physical', 'macvtap', 'ethernet', 'other']);
export const VnicTypeSchema = z.enum(['normal', 'direct', 'macvtap', 'baremetal', 'direct-physical', 'virtio-forwarder', 'smart-nic']);

/** A virtual interface (Neutron port) as the network service hands it to the compute driver. */
export const VifSchema = z
  .object({
    id: UuidSchema,
    address: MacAddressSchema,
    network: NetworkSchema,
    type: VifTypeSchema.default('bridge'),
    vnicType: VnicTypeSchema.default('normal'),
    profile: z.record(z.string().max(255), z.string().max(1024)).default({}),
    details: z.record(z.string().max(255), z.string().max(1024)).default({}),
    devname: InterfaceNameSchema.optional(),
    active: z.boolean().default(true),
  })
  .strict();
export type Vif = z.infer<typeof VifSchema>;
export type VifInput = z.input<typeof VifSchema>;

export const NetworkInfoSchema = z
  .array(VifSchema)
  .max(16)
  .refine((vifs) => new Set(vifs.map((v) => v.id)).size === vifs.length, { message: 'VIF ids must be unique' });
export type NetworkInfo = z.infer<typeof NetworkInfoSchema>;
