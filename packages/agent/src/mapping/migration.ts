import { create } from '@bufbuild/protobuf';
import type { MigrationProgress, MigrationRequest, MigrationRequestInput, MigrationTarget } from '@nova-common/core';
import * as pb from '../wire.js';
import { fromProto, migrationKinds, migrationPhases } from './enums.js';
import { opt, optNum, optU64 } from './scalars.js';
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

export function migrationProgressToProto(p: MigrationProgress): pb.MigrationProgress {
  return create(pb.MigrationProgressSchema, {
    instanceUuid: p.instanceUuid,
    phase: migrationPhases.toProto(p.phase),
    ...opt('migrationId', p.migrationId),
    ...opt('kind', p.kind === undefined ? undefined : migrationKinds.toProto(p.kind)),
    ...opt('elapsedMs', optU64(p.elapsedMs)),
    ...opt('dataTotalBytes', optU64(p.dataTotalBytes)),
    ...opt('dataProcessedBytes', optU64(p.dataProcessedBytes)),
    ...opt('dataRemainingBytes', optU64(p.dataRemainingBytes)),
  });
}

/** Wire to contract: absent fields stay absent, and the remote driver's result check sees what came. */
export function migrationProgressFromProto(p: pb.MigrationProgress): MigrationProgress {
  return {
    instanceUuid: p.instanceUuid,
    phase: fromProto(migrationPhases, p.phase) as MigrationProgress['phase'],
    ...opt('migrationId', p.migrationId),
    ...opt('kind', p.kind === undefined ? undefined : (fromProto(migrationKinds, p.kind) as MigrationProgress['kind'])),
    ...opt('elapsedMs', optNum(p.elapsedMs)),
    ...opt('dataTotalBytes', optNum(p.dataTotalBytes)),
    ...opt('dataProcessedBytes', optNum(p.dataProcessedBytes)),
    ...opt('dataRemainingBytes', optNum(p.dataRemainingBytes)),
  };
}
