import { create } from '@bufbuild/protobuf';
import type { MigrationRequest, MigrationRequestInput, MigrationTarget } from '@nova-common/core';
import * as pb from '../wire.js';
import { fromProto, migrationKinds } from './enums.js';
import { flavorFromProto, flavorToProto } from './flavor.js';
import { instanceSpecFromProto, instanceSpecToProto } from './instance-spec.js';

/** A field the sender left out reaches the guard as undefined, which it reports at its path. */
const req = <T, R>(value: T | undefined, fn: (v: T) => R): R => (value === undefined ? (undefined as R) : fn(value));

export function migrationRequestToProto(r: MigrationRequestInput | MigrationRequest): pb.MigrationRequest {
  return create(pb.MigrationRequestSchema, {
    migrationId: r.migrationId,
    kind: migrationKinds.toProto(r.kind),
    sourceDriver: r.sourceDriver,
    sameHost: r.sameHost ?? false,
    instance: instanceSpecToProto(r.instance),
    ...(r.flavor !== undefined ? { flavor: flavorToProto(r.flavor) } : {}),
  });
}

export function migrationRequestFromProto(r: pb.MigrationRequest): MigrationRequestInput {
  return {
    migrationId: r.migrationId,
    kind: fromProto(migrationKinds, r.kind) as MigrationRequestInput['kind'],
    sourceDriver: r.sourceDriver,
    sameHost: r.sameHost,
    instance: req(r.instance, instanceSpecFromProto),
    ...(r.flavor !== undefined ? { flavor: flavorFromProto(r.flavor) } : {}),
  };
}

export function migrationTargetToProto(t: MigrationTarget): pb.MigrationTarget {
  return create(pb.MigrationTargetSchema, {
    migrationId: t.migrationId,
    kind: migrationKinds.toProto(t.kind),
    driver: t.driver,
    instanceUuid: t.instanceUuid,
    node: t.node,
    flavor: flavorToProto(t.flavor),
    sameHost: t.sameHost,
    address: t.address,
  });
}

/** Wire to contract: what the guard parses (a flavor left out reaches it as undefined). */
export function migrationTargetFromProto(t: pb.MigrationTarget): MigrationTarget {
  return {
    migrationId: t.migrationId,
    kind: fromProto(migrationKinds, t.kind) as MigrationTarget['kind'],
    driver: t.driver,
    instanceUuid: t.instanceUuid,
    node: t.node,
    flavor: req(t.flavor, flavorFromProto) as MigrationTarget['flavor'],
    sameHost: t.sameHost,
    address: t.address,
  };
}
