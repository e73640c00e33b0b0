import { z } from 'zod';
import { NonNegativeIntSchema, PositiveIntSchema, UuidSchema } from './common.js';
import { DiskBusSchema } from './image-meta.js';

/** A guest device name such as `vdb` or `/dev/sdc`. */
export const DeviceNameSchema = z
  .string()
  .regex(/^(\/dev\/)?[a-z]{2,4}[a-z0-9]{0,4}$/, 'must be a device name like vdb or /dev/sdc');

/** An absolute host path, not the root directory, without `..` segments or control characters. */
export const HostPathSchema = z
  .string()
  .max(4096)
  .regex(/^\//, 'must be an absolute path')
  .regex(/[^/]/, 'must name a file or device, not the root directory')
  .refine((p) => !p.split('/').includes('..'), { message: 'must not contain .. segments' })
  .refine((p) => !/[\u0000-\u001f\u007f]/.test(p), { message: 'must not contain control characters' });

/**
 * How the host reaches a volume (Nova's connection_info). The shape depends on the
 * transport; a driver declares which transports it accepts and refuses the others
 * with InvalidInput.
 */
export const ConnectionInfoSchema = z.discriminatedUnion('driverVolumeType', [
  z.object({ driverVolumeType: z.literal('file'), path: HostPathSchema }).strict(),
  z.object({ driverVolumeType: z.literal('block'), devicePath: HostPathSchema }).strict(),
  z
    .object({
      driverVolumeType: z.literal('iscsi'),
      targetPortal: z.string().regex(/^[A-Za-z0-9.:[\]-]+:\d{1,5}$/, 'must be host:port'),
      targetIqn: z.string().regex(/^iqn\.[a-z0-9.:-]+$/, 'must be an iSCSI qualified name'),
      targetLun: NonNegativeIntSchema.max(16383),
    })
    .strict(),
  z
    .object({
      driverVolumeType: z.literal('rbd'),
      pool: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
      image: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
      hosts: z.array(z.string().regex(/^[A-Za-z0-9.:[\]-]+$/)).max(16).default([]),
    })
    .strict(),
]);
export type ConnectionInfo = z.infer<typeof ConnectionInfoSchema>;

/** One volume attachment: which volume, where the guest sees it, and how the host reaches it. */
export const VolumeAttachmentSchema = z
  .object({
    volumeId: UuidSchema,
    deviceName: DeviceNameSchema.optional(),
    diskBus: DiskBusSchema.optional(),
    bootIndex: z.number().int().min(-1).max(64).optional(),
    sizeGb: PositiveIntSchema.max(1024 * 1024).optional(),
    deleteOnTermination: z.boolean().default(false),
    connectionInfo: ConnectionInfoSchema,
  })
  .strict();
export type VolumeAttachment = z.infer<typeof VolumeAttachmentSchema>;
export type VolumeAttachmentInput = z.input<typeof VolumeAttachmentSchema>;

export const EphemeralDiskSchema = z
  .object({
    deviceName: DeviceNameSchema.optional(),
    sizeGb: PositiveIntSchema.max(1024 * 1024),
    guestFormat: z.enum(['ext4', 'ext3', 'xfs', 'vfat', 'ntfs', 'swap']).optional(),
    diskBus: DiskBusSchema.optional(),
  })
  .strict();

export const SwapDiskSchema = z
  .object({ deviceName: DeviceNameSchema.optional(), sizeMb: PositiveIntSchema.max(1024 * 1024) })
  .strict();

/** Nova's block_device_info: root device, ephemerals, swap and volumes, all typed. */
export const BlockDeviceInfoSchema = z
  .object({
    rootDeviceName: DeviceNameSchema.optional(),
    ephemerals: z.array(EphemeralDiskSchema).max(8).default([]),
    swap: SwapDiskSchema.optional(),
    volumes: z
      .array(VolumeAttachmentSchema)
      .max(26)
      .default([])
      .refine((vs) => new Set(vs.map((v) => v.volumeId)).size === vs.length, { message: 'volume ids must be unique' }),
  })
  .strict();
export type BlockDeviceInfo = z.infer<typeof BlockDeviceInfoSchema>;
