import type { GenEnum } from '@bufbuild/protobuf/codegenv2';
import {
  ContainerFormatSchema,
  DiskBusSchema,
  DiskFormatSchema,
  ERROR_CODE_LIST,
  EventCauseSchema,
  FixedIpSchema,
  InstanceModeSchema,
  LifecycleEventKindSchema,
  NodeUnavailableReasonSchema,
  PowerStateSchema,
  MigrationKindSchema,
  MigrationPhaseSchema,
  RebootTypeSchema,
  RestorableStateSchema,
  SupportLevelSchema,
  VifModelSchema,
  VifTypeSchema,
  VnicTypeSchema,
  VolumeTransportSchema,
  ImagePropertiesSchema,
  EphemeralDiskSchema,
  type ErrorCode,
} from '@nova-common/core';
import { ConnectedVolumeSchema, PluggedDeviceKindSchema } from '@nova-common/core/plugs';
import * as pb from '../wire.js';

/**
 * One contract enum (zod string literals) and its proto enum, value by value. The proto value
 * of `direct-physical` is `VNIC_TYPE_DIRECT_PHYSICAL`: the literal upper-cased, dashes as
 * underscores, after the enum's prefix. Built from both descriptors, so a value added on one
 * side only fails at load (and in the mapping test), never silently on the wire.
 */
export interface EnumMapping<S extends string> {
  /** Every contract value, in the zod enum's order. */
  readonly values: readonly S[];
  toProto(value: S): number;
  /**
   * The contract value of a wire number: a known value, `undefined` for 0 (not set), or the
   * number itself for anything else, so the guard's validation reports it at its field.
   */
  fromProto(value: number): S | undefined | number;
}

export function enumMapping<S extends string>(values: readonly S[], desc: GenEnum<number>): EnumMapping<S> {
  const byNumber = new Map<number, S>();
  const byValue = new Map<S, number>();
  for (const value of values) {
    const name = value.toUpperCase().replaceAll('-', '_');
    const protoValue = desc.values.find((v) => v.localName === name);
    if (protoValue === undefined) throw new Error(`${desc.typeName} has no value ${name} for the contract's ${value}`);
    byNumber.set(protoValue.number, value);
    byValue.set(value, protoValue.number);
  }
  const extra = desc.values.filter((v) => v.number !== 0 && !byNumber.has(v.number));
  if (extra.length > 0) throw new Error(`${desc.typeName} has values the contract lacks: ${extra.map((v) => v.name).join(', ')}`);
  return {
    values,
    toProto(value) {
      const n = byValue.get(value);
      if (n === undefined) throw new TypeError(`${String(value)} is not a value of ${desc.typeName}`);
      return n;
    },
    fromProto(n) {
      return byNumber.get(n) ?? (n === 0 ? undefined : n);
    },
  };
}

const IMAGE_PROPERTIES = ImagePropertiesSchema.shape;

export const powerStates = enumMapping(PowerStateSchema.options, pb.PowerStateSchema);
export const instanceStates = enumMapping([...PowerStateSchema.options, 'RESCUE'] as const, pb.InstanceStateSchema);
export const instanceModes = enumMapping(InstanceModeSchema.options, pb.InstanceModeSchema);
export const lifecycleEventKinds = enumMapping(LifecycleEventKindSchema.options, pb.LifecycleEventKindSchema);
export const eventCauses = enumMapping(EventCauseSchema.options, pb.EventCauseSchema);
export const restorableStates = enumMapping(RestorableStateSchema.options, pb.RestorableStateSchema);
export const diskFormats = enumMapping(DiskFormatSchema.options, pb.DiskFormatSchema);
export const containerFormats = enumMapping(ContainerFormatSchema.options, pb.ContainerFormatSchema);
export const diskBuses = enumMapping(DiskBusSchema.options, pb.DiskBusSchema);
export const vifModels = enumMapping(VifModelSchema.options, pb.VifModelSchema);
export const firmwareTypes = enumMapping(IMAGE_PROPERTIES.hwFirmwareType.unwrap().options, pb.FirmwareTypeSchema);
export const osTypes = enumMapping(IMAGE_PROPERTIES.osType.unwrap().options, pb.OsTypeSchema);
export const fixedIpTypes = enumMapping(FixedIpSchema.shape.type.unwrap().options, pb.FixedIpTypeSchema);
export const vifTypes = enumMapping(VifTypeSchema.options, pb.VifTypeSchema);
export const vnicTypes = enumMapping(VnicTypeSchema.options, pb.VnicTypeSchema);
export const guestFormats = enumMapping(EphemeralDiskSchema.shape.guestFormat.unwrap().options, pb.GuestFormatSchema);
export const rebootTypes = enumMapping(RebootTypeSchema.options, pb.RebootTypeSchema);
export const migrationKinds = enumMapping(MigrationKindSchema.options, pb.MigrationKindSchema);
export const migrationPhases = enumMapping(MigrationPhaseSchema.options, pb.MigrationPhaseSchema);
export const nodeUnavailableReasons = enumMapping(NodeUnavailableReasonSchema.options, pb.NodeUnavailableReasonSchema);
export const supportLevels = enumMapping(SupportLevelSchema.options, pb.SupportLevelSchema);
export const volumeTransports = enumMapping(VolumeTransportSchema.options, pb.VolumeTransportSchema);
export const errorCodes = enumMapping(ERROR_CODE_LIST as readonly ErrorCode[], pb.ErrorCodeSchema);
export const pluggedDeviceKinds = enumMapping(PluggedDeviceKindSchema.options, pb.PluggedDeviceKindSchema);
export const connectedVolumeKinds = enumMapping(ConnectedVolumeSchema.shape.kind.options, pb.ConnectedVolumeKindSchema);

/** Every mapping, by proto enum name (the mapping test walks them). */
export const ENUM_MAPPINGS = {
  PowerState: powerStates,
  InstanceState: instanceStates,
  InstanceMode: instanceModes,
  LifecycleEventKind: lifecycleEventKinds,
  EventCause: eventCauses,
  RestorableState: restorableStates,
  MigrationKind: migrationKinds,
  MigrationPhase: migrationPhases,
  DiskFormat: diskFormats,
  ContainerFormat: containerFormats,
  DiskBus: diskBuses,
  VifModel: vifModels,
  FirmwareType: firmwareTypes,
  OsType: osTypes,
  FixedIpType: fixedIpTypes,
  VifType: vifTypes,
  VnicType: vnicTypes,
  GuestFormat: guestFormats,
  RebootType: rebootTypes,
  NodeUnavailableReason: nodeUnavailableReasons,
  SupportLevel: supportLevels,
  VolumeTransport: volumeTransports,
  ErrorCode: errorCodes,
  PluggedDeviceKind: pluggedDeviceKinds,
  ConnectedVolumeKind: connectedVolumeKinds,
} as const;

/** An optional contract value to the wire. */
export function optToProto<S extends string>(mapping: EnumMapping<S>, value: S | undefined): number | undefined {
  return value === undefined ? undefined : mapping.toProto(value);
}

/**
 * An optional wire value to the contract: absent stays absent; present but not a contract value
 * (0 included: set explicitly to "unspecified") comes through as the number, for validation to refuse.
 */
export function optFromProto<S extends string>(mapping: EnumMapping<S>, value: number | undefined): S | undefined {
  if (value === undefined) return undefined;
  return (mapping.fromProto(value) ?? value) as S;
}

/** A required wire value to the contract (unset: undefined, unknown: the number; validation refuses both). */
export function fromProto<S extends string>(mapping: EnumMapping<S>, value: number): S {
  return mapping.fromProto(value) as S;
}
