import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { guard } from '../src/guard/guard.js';
import type { DriverError } from '../src/errors/driver-error.js';
import { isRuleId } from '../src/semantics/rules.js';
import { MIGRATION_SEMANTICS } from '../src/migration/semantics.js';
import { SEMANTIC_STATES } from '../src/semantics/states.js';
import { createReferenceDriver, referenceManifest, type ReferenceDriverConfig } from '../src/testing.js';
import { spec } from './reference-helpers.js';

const KIND = referenceManifest.name;

async function rejection(p: Promise<unknown>): Promise<DriverError> {
  try {
    await p;
  } catch (e) {
    return e as DriverError;
  }
  throw new Error('expected a rejection');
}

function twoHosts(config: ReferenceDriverConfig = {}) {
  return { a: guard(createReferenceDriver(config)), b: guard(createReferenceDriver(config)) };
}

describe('the migration protocol at the guard (contract 1.2)', () => {
  it('a LIVE request needs operation.live-migrate: UNSUPPORTED naming it, before the request is even parsed (R-GEN-ORDER)', async () => {
    const { a, b } = twoHosts({ disabledCapabilities: ['operation.live-migrate'] });
    await b.getCapabilities();
    const s = spec();
    await a.spawn(s);
    const e = await rejection(b.prepareMigration({ migrationId: randomUUID(), kind: 'LIVE', sourceDriver: KIND, instance: { ...s, name: '' } }));
    expect([e.code, e.capability]).toEqual(['UNSUPPORTED', 'operation.live-migrate']);
    // A cold one goes through.
    const target = await b.prepareMigration({ migrationId: randomUUID(), kind: 'COLD', sourceDriver: KIND, instance: s });
    await a.migrate(s.uuid, target);
    await b.finishMigration(target.migrationId);
    expect((await b.listInstances()).map((i) => i.uuid)).toEqual([s.uuid]);
    expect(await a.listInstances()).toEqual([]);
  });

  it('a malformed request is INVALID_INPUT naming the field, and nothing is reserved', async () => {
    const { b } = twoHosts();
    const before = await b.getInventory();
    const e = await rejection(b.prepareMigration({ migrationId: 'not-a-uuid', kind: 'SIDEWAYS', sourceDriver: KIND, instance: spec() } as never));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.issues!.map((i) => i.path.join('.'))).toEqual(expect.arrayContaining(['request.migrationId', 'request.kind']));
    expect(await b.getInventory()).toEqual(before);
  });

  it('uuids in requests and targets are one uuid whatever their case', async () => {
    const { a, b } = twoHosts();
    const s = spec();
    await a.spawn(s);
    const id = randomUUID();
    const target = await b.prepareMigration({ migrationId: id.toUpperCase(), kind: 'LIVE', sourceDriver: KIND, instance: { ...s, uuid: s.uuid.toUpperCase() } });
    expect([target.migrationId, target.instanceUuid]).toEqual([id, s.uuid]);
    await a.migrate(s.uuid.toUpperCase(), { ...target, instanceUuid: s.uuid.toUpperCase() });
    await b.finishMigration(id.toUpperCase());
    expect((await b.getInfo(s.uuid)).powerState).toBe('RUNNING');
  });

  it('a rejected migrate leaves the instance where it was: INVALID_STATE from the migration table, with its rule', async () => {
    const { a, b } = twoHosts();
    const s = spec({ powerOn: false });
    await a.spawn(s);
    const target = await b.prepareMigration({ migrationId: randomUUID(), kind: 'LIVE', sourceDriver: KIND, instance: s });
    const e = await rejection(a.migrate(s.uuid, target));
    expect(e.code).toBe('INVALID_STATE');
    expect(e.message).toContain('R-MIGRATE-LIVE-SHUTDOWN');
    expect((await a.getInfo(s.uuid)).powerState).toBe('SHUTDOWN');
    await b.abortMigration(target.migrationId);
    expect(await b.listInstances()).toEqual([]);
  });

  it('getMigrationProgress answers while migrate runs on the same instance: the guard does not queue it behind the move (R-MIGRATE-PROGRESS)', async () => {
    const rawA = createReferenceDriver();
    const slowMigrate = rawA.migrate!.bind(rawA);
    // The move takes a while, as a real copy does.
    rawA.migrate = async (uuid, target, options) => {
      await new Promise((r) => setTimeout(r, 200));
      await slowMigrate(uuid, target, options);
    };
    const a = guard(rawA);
    const b = guard(createReferenceDriver());
    const s = spec();
    await a.spawn(s);
    const target = await b.prepareMigration({ migrationId: randomUUID(), kind: 'LIVE', sourceDriver: KIND, instance: s });
    let moved = false;
    const moving = a.migrate(s.uuid, target).then(() => (moved = true));
    const during = await a.getMigrationProgress(s.uuid);
    expect(moved).toBe(false);
    expect(during).toEqual({ instanceUuid: s.uuid, phase: 'NONE' });
    await moving;
    expect((await rejection(a.getMigrationProgress(s.uuid))).code).toBe('INSTANCE_NOT_FOUND');
    expect(await b.getMigrationProgress(s.uuid.toUpperCase())).toEqual({ instanceUuid: s.uuid, phase: 'NONE' });
  });

  it('the reference source reports COPYING with the migration and its data while the copy runs', async () => {
    const { a, b } = twoHosts();
    const s = spec();
    await a.spawn(s);
    const target = await b.prepareMigration({ migrationId: randomUUID(), kind: 'COLD', sourceDriver: KIND, instance: s });
    const readings: unknown[] = [];
    const moving = a.migrate(s.uuid, target);
    // The reference copy takes one turn of the event loop; read once per turn until migrate ends.
    let done = false;
    void moving.finally(() => (done = true));
    while (!done) {
      readings.push(await a.getMigrationProgress(s.uuid).catch((e: DriverError) => e.code));
      await new Promise((r) => setImmediate(r));
    }
    await moving;
    const copying = readings.find((r) => (r as { phase?: string }).phase === 'COPYING');
    expect(copying, JSON.stringify(readings)).toMatchObject({ migrationId: target.migrationId, kind: 'COLD', dataTotalBytes: s.flavor.rootGb * 1024 ** 3, dataProcessedBytes: 0 });
  });

  it('every cell of the migration table and every protocol rule has an id the suite can cite', () => {
    for (const kind of ['LIVE', 'COLD'] as const) {
      for (const state of SEMANTIC_STATES) expect(isRuleId(MIGRATION_SEMANTICS[kind][state].rule)).toBe(true);
    }
    expect(isRuleId('R-MIGRATE-ONE-HOST')).toBe(true);
    expect(isRuleId('R-MIGRATE-SIDEWAYS-RUNNING')).toBe(false);
  });
});
