import { create } from '@bufbuild/protobuf';
import type { ImageMeta, ImageMetaInput } from '@nova-common/core';
import * as pb from '../wire.js';
import { containerFormats, diskBuses, diskFormats, firmwareTypes, fromProto, optFromProto, optToProto, osTypes, vifModels } from './enums.js';
import { opt, optNum, optU64 } from './scalars.js';

type Properties = NonNullable<ImageMetaInput['properties']>;

function propertiesToProto(p: Properties): pb.ImageProperties {
  return create(pb.ImagePropertiesSchema, {
    hwDiskBus: optToProto(diskBuses, p.hwDiskBus),
    hwCdromBus: optToProto(diskBuses, p.hwCdromBus),
    hwVifModel: optToProto(vifModels, p.hwVifModel),
    hwFirmwareType: optToProto(firmwareTypes, p.hwFirmwareType),
    hwMachineType: p.hwMachineType,
    osType: optToProto(osTypes, p.osType),
    osDistro: p.osDistro,
  });
}

function propertiesFromProto(p: pb.ImageProperties): Properties {
  return {
    ...opt('hwDiskBus', optFromProto(diskBuses, p.hwDiskBus)),
    ...opt('hwCdromBus', optFromProto(diskBuses, p.hwCdromBus)),
    ...opt('hwVifModel', optFromProto(vifModels, p.hwVifModel)),
    ...opt('hwFirmwareType', optFromProto(firmwareTypes, p.hwFirmwareType)),
    ...opt('hwMachineType', p.hwMachineType),
    ...opt('osType', optFromProto(osTypes, p.osType)),
    ...opt('osDistro', p.osDistro),
  };
}

/** Image metadata, input or parsed form, to the wire. */
export function imageMetaToProto(image: ImageMetaInput | ImageMeta): pb.ImageMeta {
  return create(pb.ImageMetaSchema, {
    id: image.id,
    name: image.name,
    diskFormat: diskFormats.toProto(image.diskFormat),
    containerFormat: containerFormats.toProto(image.containerFormat),
    minDiskGb: optU64(image.minDiskGb),
    minRamMb: optU64(image.minRamMb),
    sizeBytes: optU64(image.sizeBytes),
    properties: image.properties === undefined ? undefined : propertiesToProto(image.properties),
  });
}

/** The wire's image metadata as the contract's input (defaults not applied). */
export function imageMetaFromProto(image: pb.ImageMeta): ImageMetaInput {
  return {
    id: image.id,
    ...opt('name', image.name),
    diskFormat: fromProto(diskFormats, image.diskFormat),
    containerFormat: fromProto(containerFormats, image.containerFormat),
    ...opt('minDiskGb', optNum(image.minDiskGb)),
    ...opt('minRamMb', optNum(image.minRamMb)),
    ...opt('sizeBytes', optNum(image.sizeBytes)),
    ...opt('properties', image.properties === undefined ? undefined : propertiesFromProto(image.properties)),
  };
}
