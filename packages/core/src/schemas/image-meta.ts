import { z } from 'zod';
import { IdentifierSchema, NonNegativeIntSchema, UserStringSchema } from './common.js';

export const DiskFormatSchema = z.enum(['raw', 'qcow2', 'vmdk', 'vdi', 'iso', 'ploop', 'vhd', 'vhdx', 'aki', 'ari', 'ami']);
export const ContainerFormatSchema = z.enum(['bare', 'ovf', 'ova', 'aki', 'ari', 'ami', 'docker', 'compressed']);
export const DiskBusSchema = z.enum(['virtio', 'scsi', 'ide', 'sata', 'usb', 'fdc']);
export const VifModelSchema = z.enum(['virtio', 'e1000', 'e1000e', 'rtl8139', 'ne2k_pci', 'pcnet', 'vmxnet3']);

/** Hardware properties of an image (Glance's `hw_*` properties, camel-cased). */
export const ImagePropertiesSchema = z
  .object({
    hwDiskBus: DiskBusSchema.optional(),
    hwCdromBus: DiskBusSchema.optional(),
    hwVifModel: VifModelSchema.optional(),
    hwFirmwareType: z.enum(['bios', 'uefi']).optional(),
    hwMachineType: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
    osType: z.enum(['linux', 'windows']).optional(),
    osDistro: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
  })
  .strict();

/** Image metadata: what the image is and the hardware it expects. */
export const ImageMetaSchema = z
  .object({
    id: IdentifierSchema,
    name: UserStringSchema.optional(),
    diskFormat: DiskFormatSchema,
    containerFormat: ContainerFormatSchema,
    minDiskGb: NonNegativeIntSchema.default(0),
    minRamMb: NonNegativeIntSchema.default(0),
    sizeBytes: NonNegativeIntSchema.optional(),
    properties: ImagePropertiesSchema.default({}),
  })
  .strict();
export type ImageMeta = z.infer<typeof ImageMetaSchema>;
export type ImageMetaInput = z.input<typeof ImageMetaSchema>;
