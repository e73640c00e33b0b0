import { describe, expect, it } from 'vitest';
import type { MigrationTarget } from '@nova-common/core';
import {
  deliveredIdOf,
  deliveredLabels,
  deliveredName,
  decodeAddress,
  encodeAddress,
  handedOverName,
  loadError,
  migrationKeys,
  reservationLabels,
  reservationName,
  targetOfReservation,
  transferImage,
  type MigrationAddress,
} from '../src/mapping/migration.js';
import { phaseOfName } from '../src/mapping/labels.js';

// The pure mapping of a migration (src/mapping/migration.ts): the target's address, the reservation's
// labels, the names of what a migration makes. Golden values: a change here changes what two driver
// versions say to each other.

const naming = { namePrefix: 'nova', labelPrefix: 'io.nova-common', ownerId: 'default' };
const address: MigrationAddress = {
  v: 1,
  socket: '/run/nova-common/podman.sock',
  namePrefix: 'nova',
  labelPrefix: 'io.nova-common',
  ownerId: 'default',
  init: true,
  stopTimeoutSeconds: 10,
  pidsLimit: 1024,
  cpus: 2,
  engine: 'podman',
  apiVersion: '1.41',
};
const target: MigrationTarget = {
  migrationId: '11111111-2222-4333-8444-555555555555',
  kind: 'COLD',
  driver: '@nova-common/driver-container',
  instanceUuid: '0a1b2c3d-2222-4333-8444-555555555555',
  node: 'host-a',
  flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 96, rootGb: 1, ephemeralGb: 0, swapMb: 0, extraSpecs: {} } as MigrationTarget['flavor'],
  sameHost: false,
  address: encodeAddress(address),
};

describe('the target address', () => {
  it('is a scheme and the destination settings as JSON (golden)', () => {
    expect(encodeAddress(address)).toBe(
      'nova-container+json:{"v":1,"socket":"/run/nova-common/podman.sock","namePrefix":"nova","labelPrefix":"io.nova-common","ownerId":"default","init":true,"stopTimeoutSeconds":10,"pidsLimit":1024,"cpus":2,"engine":"podman","apiVersion":"1.41"}',
    );
  });

  it('round-trips', () => {
    expect(decodeAddress(encodeAddress(address))).toEqual(address);
  });

  it('refuses what this driver did not write, with a reason', () => {
    expect(decodeAddress('qemu+ssh://host/system')).toMatch(/not a container engine address/);
    expect(decodeAddress('nova-container+json:{')).toMatch(/not valid JSON/);
    expect(decodeAddress('nova-container+json:{"v":1}')).toMatch(/malformed/);
    expect(decodeAddress(encodeAddress({ ...address, socket: 'relative.sock' }))).toMatch(/malformed: socket/);
    expect(decodeAddress(encodeAddress({ ...address, extra: 1 } as MigrationAddress))).toMatch(/malformed/);
  });
});

describe('the reservation', () => {
  it('is named after the migration and labelled as an owned migration carrying its target (golden)', () => {
    expect(reservationName(naming, target.migrationId)).toBe('nova-migration-11111111-2222-4333-8444-555555555555');
    const labels = reservationLabels(naming, target);
    expect(Object.keys(labels)).toEqual([
      'io.nova-common.owner',
      'io.nova-common.kind',
      'io.nova-common.uuid',
      'io.nova-common.migration-id',
      'io.nova-common.migration-target',
    ]);
    expect(labels['io.nova-common.kind']).toBe('migration');
    expect(targetOfReservation(naming, labels)).toEqual(target);
  });

  it('is not read from another owner\'s labels, another kind, or a broken target', () => {
    const labels = reservationLabels(naming, target);
    expect(targetOfReservation({ ...naming, ownerId: 'other' }, labels)).toBeUndefined();
    expect(targetOfReservation(naming, { ...labels, 'io.nova-common.kind': 'instance' })).toBeUndefined();
    expect(targetOfReservation(naming, { ...labels, 'io.nova-common.migration-target': '{' })).toBeUndefined();
    expect(targetOfReservation(naming, null)).toBeUndefined();
  });
});

describe('the delivered mark', () => {
  it('is named after the migration and labelled as an owned mark carrying its id (golden)', () => {
    expect(deliveredName(naming, target.migrationId)).toBe('nova-migration-11111111-2222-4333-8444-555555555555-delivered');
    expect(deliveredLabels(naming, target.migrationId)).toEqual({
      'io.nova-common.owner': naming.ownerId,
      'io.nova-common.kind': 'migration-delivered',
      'io.nova-common.migration-id': target.migrationId,
    });
    expect(deliveredIdOf(naming, deliveredLabels(naming, target.migrationId))).toBe(target.migrationId);
  });

  it('is not read from another owner\'s labels or a reservation', () => {
    expect(deliveredIdOf({ ...naming, ownerId: 'other' }, deliveredLabels(naming, target.migrationId))).toBeUndefined();
    expect(deliveredIdOf(naming, reservationLabels(naming, target))).toBeUndefined();
    expect(targetOfReservation(naming, deliveredLabels(naming, target.migrationId))).toBeUndefined();
    expect(deliveredIdOf(naming, null)).toBeUndefined();
  });
});

describe('names', () => {
  it('the transfer image is per instance and per migration', () => {
    expect(transferImage(naming, target.instanceUuid, target.migrationId)).toEqual({
      repo: 'nova-migration/0a1b2c3d-2222-4333-8444-555555555555',
      tag: '11111111',
      ref: 'nova-migration/0a1b2c3d-2222-4333-8444-555555555555:11111111',
    });
  });

  it('the handed-over source container is neither an instance nor a sweepable spawn or replacement', () => {
    const name = handedOverName(naming, target.instanceUuid);
    expect(name).toBe('nova-migrated-0a1b2c3d-2222-4333-8444-555555555555');
    expect(phaseOfName(naming, name)).toBeUndefined();
  });

  it('migration label keys follow the label prefix', () => {
    expect(migrationKeys({ ...naming, labelPrefix: 'org.example' })).toEqual({ migrationId: 'org.example.migration-id', target: 'org.example.migration-target' });
  });
});

describe('image load answers', () => {
  it('finds an error in the JSON message stream, none in a success', () => {
    expect(loadError('{"stream":"Loaded image: nova-migration/x:1\\n"}\n')).toBeUndefined();
    expect(loadError('Loaded image(s): localhost/nova-migration/x:1')).toBeUndefined();
    expect(loadError('{"errorDetail":{"message":"unexpected EOF"},"error":"unexpected EOF"}')).toBe('unexpected EOF');
    expect(loadError('{"errorDetail":{"message":"bad tar"}}')).toBe('bad tar');
  });
});
