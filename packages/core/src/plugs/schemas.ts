import { z } from 'zod';
import { UuidSchema, MacAddressSchema } from '../schemas/common.js';
import { HostPathSchema } from '../schemas/block-device-info.js';
import { InterfaceNameSchema, IpAddressSchema } from '../schemas/network-info.js';

/** The instance a plug is for: the uuid owns the plug; the name is for humans only. */
export const PlugInstanceSchema = z.object({ uuid: UuidSchema, name: z.string().max(255).optional() }).strict();
export type PlugInstance = z.infer<typeof PlugInstanceSchema>;

/** The host-side device kinds a VIF plugin can hand to a compute driver. */
export const PluggedDeviceKindSchema = z.enum(['tap', 'veth']);

/**
 * What a VIF plugin returns: the device the compute driver wires into the guest, on the
 * bridge the network service asked for. A `tap` is given to the hypervisor by name
 * (libvirt `<interface type='ethernet'>`, `managed='no'`); a `veth` has its `peer` end moved
 * into the container's namespace by the compute driver.
 */
export const PluggedVifSchema = z
  .object({
    vifId: UuidSchema,
    instanceUuid: UuidSchema,
    kind: PluggedDeviceKindSchema,
    device: InterfaceNameSchema,
    peer: InterfaceNameSchema.optional(),
    bridge: InterfaceNameSchema.optional(),
    address: MacAddressSchema,
    mtu: z.number().int().min(68).max(65535).optional(),
  })
  .strict();
export type PluggedVif = z.infer<typeof PluggedVifSchema>;

/**
 * The host's connector properties (os-brick's "connector"): what a volume service needs to
 * export a volume to this host.
 */
export const ConnectorPropertiesSchema = z
  .object({
    host: z.string().min(1).max(255),
    ips: z.array(IpAddressSchema).max(64),
    initiator: z.string().max(255).optional(),
    multipath: z.boolean(),
    platform: z.string().min(1).max(64),
    osType: z.string().min(1).max(64),
  })
  .strict();
export type ConnectorProperties = z.infer<typeof ConnectorPropertiesSchema>;

/** A volume as the host now reaches it: a file or a block device the compute driver gives the guest. */
export const ConnectedVolumeSchema = z
  .object({
    volumeId: UuidSchema,
    kind: z.enum(['file', 'block']),
    path: HostPathSchema,
    sizeBytes: z.number().int().nonnegative(),
  })
  .strict();
export type ConnectedVolume = z.infer<typeof ConnectedVolumeSchema>;
