import { create } from '@bufbuild/protobuf';
import type { BlockDeviceInfoSchema, ConnectionInfo, VolumeAttachment, VolumeAttachmentInput } from '@nova-common/core';
import type { z } from 'zod';
import * as pb from '../wire.js';
import { diskBuses, guestFormats, optFromProto, optToProto } from './enums.js';
import { opt } from './scalars.js';

export type BlockDeviceInfoInput = z.input<typeof BlockDeviceInfoSchema>;
type ConnectionInfoInput = VolumeAttachmentInput['connectionInfo'];

/** The transport's discriminant (`driverVolumeType`) is the oneof case on the wire. */
export function connectionInfoToProto(info: ConnectionInfoInput | ConnectionInfo): pb.ConnectionInfo {
  switch (info.driverVolumeType) {
    case 'file':
      return create(pb.ConnectionInfoSchema, { transport: { case: 'file', value: { path: info.path } } });
    case 'block':
      return create(pb.ConnectionInfoSchema, { transport: { case: 'block', value: { devicePath: info.devicePath } } });
    case 'iscsi':
      return create(pb.ConnectionInfoSchema, {
        transport: { case: 'iscsi', value: { targetPortal: info.targetPortal, targetIqn: info.targetIqn, targetLun: info.targetLun } },
      });
    case 'rbd':
      return create(pb.ConnectionInfoSchema, { transport: { case: 'rbd', value: { pool: info.pool, image: info.image, hosts: info.hosts ?? [] } } });
  }
}

/** No transport set comes through as an object without `driverVolumeType`, which the guard refuses there. */
export function connectionInfoFromProto(info: pb.ConnectionInfo | undefined): ConnectionInfoInput {
  const t = info?.transport;
  switch (t?.case) {
    case 'file':
      return { driverVolumeType: 'file', path: t.value.path };
    case 'block':
      return { driverVolumeType: 'block', devicePath: t.value.devicePath };
    case 'iscsi':
      return { driverVolumeType: 'iscsi', targetPortal: t.value.targetPortal, targetIqn: t.value.targetIqn, targetLun: t.value.targetLun };
    case 'rbd':
      return { driverVolumeType: 'rbd', pool: t.value.pool, image: t.value.image, hosts: [...t.value.hosts] };
    default:
      return {} as ConnectionInfoInput;
  }
}

export function volumeAttachmentToProto(v: VolumeAttachmentInput | VolumeAttachment): pb.VolumeAttachment {
  return create(pb.VolumeAttachmentSchema, {
    volumeId: v.volumeId,
    deviceName: v.deviceName,
    diskBus: optToProto(diskBuses, v.diskBus),
    bootIndex: v.bootIndex,
    sizeGb: v.sizeGb,
    deleteOnTermination: v.deleteOnTermination,
    connectionInfo: connectionInfoToProto(v.connectionInfo),
  });
}

export function volumeAttachmentFromProto(v: pb.VolumeAttachment): VolumeAttachmentInput {
  return {
    volumeId: v.volumeId,
    ...opt('deviceName', v.deviceName),
    ...opt('diskBus', optFromProto(diskBuses, v.diskBus)),
    ...opt('bootIndex', v.bootIndex),
    ...opt('sizeGb', v.sizeGb),
    ...opt('deleteOnTermination', v.deleteOnTermination),
    connectionInfo: connectionInfoFromProto(v.connectionInfo),
  };
}

export function blockDeviceInfoToProto(b: BlockDeviceInfoInput): pb.BlockDeviceInfo {
  return create(pb.BlockDeviceInfoSchema, {
    rootDeviceName: b.rootDeviceName,
    ephemerals: (b.ephemerals ?? []).map((e) => ({
      deviceName: e.deviceName,
      sizeGb: e.sizeGb,
      guestFormat: optToProto(guestFormats, e.guestFormat),
      diskBus: optToProto(diskBuses, e.diskBus),
    })),
    swap: b.swap === undefined ? undefined : { deviceName: b.swap.deviceName, sizeMb: b.swap.sizeMb },
    volumes: (b.volumes ?? []).map(volumeAttachmentToProto),
  });
}

export function blockDeviceInfoFromProto(b: pb.BlockDeviceInfo): BlockDeviceInfoInput {
  return {
    ...opt('rootDeviceName', b.rootDeviceName),
    ephemerals: b.ephemerals.map((e) => ({
      ...opt('deviceName', e.deviceName),
      sizeGb: e.sizeGb,
      ...opt('guestFormat', optFromProto(guestFormats, e.guestFormat)),
      ...opt('diskBus', optFromProto(diskBuses, e.diskBus)),
    })),
    ...opt('swap', b.swap === undefined ? undefined : { ...opt('deviceName', b.swap.deviceName), sizeMb: b.swap.sizeMb }),
    volumes: b.volumes.map(volumeAttachmentFromProto),
  };
}
