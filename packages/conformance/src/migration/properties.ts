import { randomUUID } from 'node:crypto';
import {
  migrationCell,
  powerStateOf,
  supports,
  type DriverCapabilities,
  type FlavorInput,
  type GuardedDriver,
  type MigrationKind,
  type MigrationRequestInput,
  type MigrationTarget,
  type SemanticState,
} from '@nova-common/core';
import { expectError, expectOn, kept, MigrationViolation, sameUsage, usageDelta, usageOfFlavor, usedOf, whereIs, type HostName, type MigrationHosts } from './hosts.js';

/** What a property sees: the hosts, their capabilities, and a log of its steps for the report. */
export interface MigrationContext {
  readonly hosts: MigrationHosts;
  readonly caps: DriverCapabilities;
  readonly log: string[];
  /** A fresh uuid for an instance or a migration (the run id keeps runs apart). */
  uuid(): string;
  /** Bounded wait for eventually consistent inventory (capabilities.eventualConsistency.resourceReleaseMs). */
  readonly releaseMs: number;
}

/** The kinds of migration both hosts declare. */
export function kindsOf(caps: DriverCapabilities): MigrationKind[] {
  if (!supports(caps, 'operation.migrate')) return [];
  return supports(caps, 'operation.live-migrate') ? ['COLD', 'LIVE'] : ['COLD'];
}

/** The states an instance can be brought to with what the driver declares, and how. */
function startStates(caps: DriverCapabilities): SemanticState[] {
  const out: SemanticState[] = ['RUNNING'];
  if (supports(caps, 'operation.power-on-off')) out.push('SHUTDOWN');
  if (supports(caps, 'operation.pause')) out.push('PAUSED');
  if (supports(caps, 'operation.suspend')) out.push('SUSPENDED');
  if (supports(caps, 'operation.rescue')) out.push('RESCUE');
  return out;
}

async function bringTo(driver: GuardedDriver, uuid: string, state: SemanticState): Promise<void> {
  if (state === 'SHUTDOWN') await driver.powerOff(uuid, { gracefulTimeoutMs: 0 });
  else if (state === 'PAUSED') await driver.pause(uuid);
  else if (state === 'SUSPENDED') await driver.suspend(uuid);
  else if (state === 'RESCUE') await driver.rescue(uuid, {});
}

/** Wait (bounded) until the host's used resources are `expected`; a violation of `rule` otherwise. */
async function expectUsed(ctx: MigrationContext, host: HostName, expected: Record<string, number>, rule: string, when: string): Promise<void> {
  const deadline = Date.now() + ctx.releaseMs + 1000;
  for (;;) {
    const used = usedOf(await ctx.hosts[host].getInventory());
    if (sameUsage(withoutZeros(used), withoutZeros(expected))) return;
    if (Date.now() > deadline) throw new MigrationViolation(rule, `${when}: ${host}'s inventory uses ${JSON.stringify(used)}, expected ${JSON.stringify(expected)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const withoutZeros = (u: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(u).filter(([, n]) => n !== 0));
const plus = (u: Record<string, number>, d: Record<string, number>, sign = 1): Record<string, number> => {
  const out = { ...u };
  for (const [cls, n] of Object.entries(d)) out[cls] = (out[cls] ?? 0) + sign * n;
  return out;
};

/** Destroy on both hosts, whatever happened (destroy is idempotent), and let the release settle. */
export async function cleanUp(ctx: MigrationContext, uuid: string): Promise<void> {
  await ctx.hosts.a.destroy(uuid);
  await ctx.hosts.b.destroy(uuid);
  await settle(ctx);
}

/** Wait out the declared release bound, so the next inventory baseline has no release pending (R-INV-RELEASE). */
async function settle(ctx: MigrationContext): Promise<void> {
  if (ctx.releaseMs > 0) await new Promise((r) => setTimeout(r, ctx.releaseMs));
}

export function request(ctx: MigrationContext, uuid: string, kind: MigrationKind, spec: MigrationRequestInput['instance'], flavor?: FlavorInput, sameHost = false): MigrationRequestInput {
  return { migrationId: ctx.uuid(), kind, sourceDriver: ctx.hosts.kind, sameHost, instance: { ...spec, uuid }, ...(flavor !== undefined ? { flavor } : {}) };
}

/**
 * One move of an instance from `from` to `to`, checked step by step: the reservation, the
 * idempotent prepare, the instance on exactly one host after each step, what it keeps, the
 * inventories, the idempotent finish and the abort that refuses a delivered instance.
 */
async function moveAndCheck(ctx: MigrationContext, uuid: string, from: HostName, to: HostName, req: MigrationRequestInput, state: SemanticState): Promise<void> {
  const src = ctx.hosts[from];
  const dst = ctx.hosts[to];
  await settle(ctx);
  const before = await src.getInfo(uuid);
  const usedFrom = usedOf(await src.getInventory());
  const usedTo = usedOf(await dst.getInventory());
  const flavor = req.flavor ?? req.instance.flavor;
  const target: MigrationTarget = await dst.prepareMigration(req);
  ctx.log.push(`${to}.prepareMigration(${req.kind}${req.flavor ? ', resize' : ''}) -> node ${target.node}`);
  const again = await dst.prepareMigration(req);
  if (JSON.stringify(again) !== JSON.stringify(target)) throw new MigrationViolation('R-MIGRATE-IDEMPOTENT', `a repeated prepare answered ${JSON.stringify(again)}, first ${JSON.stringify(target)}`);
  await expectUsed(ctx, to, plus(usedTo, usageOfFlavor(flavor)), 'R-MIGRATE-RESERVE', 'after prepare');
  await expectOn(ctx.hosts, uuid, from, 'after prepare');
  const cell = migrationCell(req.kind, state);
  if (cell.kind === 'error') {
    await expectError(`migrate (${req.kind}) from ${state}`, cell.rule, cell.error, () => src.migrate(uuid, target));
    ctx.log.push(`${from}.migrate refused: ${cell.error} (${cell.rule})`);
    await expectOn(ctx.hosts, uuid, from, 'after a refused migrate');
    if (kept(await src.getInfo(uuid)) !== kept(before)) throw new MigrationViolation('R-MIGRATE-ROLLBACK', 'a refused migrate changed the instance on its source');
    await dst.abortMigration(target.migrationId);
    await dst.abortMigration(target.migrationId);
    await expectUsed(ctx, to, usedTo, 'R-MIGRATE-ABORT', 'after abort');
    return;
  }
  await src.migrate(uuid, target);
  ctx.log.push(`${from}.migrate -> on ${to}`);
  await expectOn(ctx.hosts, uuid, to, 'after migrate');
  const after = await dst.getInfo(uuid);
  if (after.powerState !== powerStateOf(cell.to as Exclude<SemanticState, 'ABSENT'>)) {
    throw new MigrationViolation(cell.rule, `arrived ${after.powerState}, expected ${cell.to}`);
  }
  if (kept(after) !== kept(before)) throw new MigrationViolation('R-MIGRATE-KEEPS', `arrived as ${kept(after)}, left as ${kept(before)}`);
  await dst.finishMigration(target.migrationId);
  await dst.finishMigration(target.migrationId);
  await expectError('abortMigration of a delivered migration', 'R-MIGRATE-ABORT', 'INVALID_STATE', () => dst.abortMigration(target.migrationId));
  await expectOn(ctx.hosts, uuid, to, 'after finish');
  await expectUsed(ctx, to, plus(usedTo, usageOfFlavor(flavor)), 'R-MIGRATE-KEEPS', 'after finish (the target flavor counts on the destination)');
  await expectUsed(ctx, from, plus(usedFrom, usageOfFlavor(req.instance.flavor), -1), 'R-MIGRATE-KEEPS', 'after finish (the source released the instance)');
}

/** P-MIGRATE-STATES: every kind declared, from every state the driver can reach, per the migration table. */
export async function migrateFromEveryState(ctx: MigrationContext): Promise<void> {
  let salt = 0;
  for (const kind of kindsOf(ctx.caps)) {
    for (const state of startStates(ctx.caps)) {
      const uuid = ctx.uuid();
      const spec = ctx.hosts.spec(uuid, salt++);
      ctx.log.push(`case ${kind} from ${state}: ${uuid}`);
      try {
        await ctx.hosts.a.spawn(spec);
        await bringTo(ctx.hosts.a, uuid, state);
        const resize = kind === 'COLD' && state === 'SHUTDOWN' ? ctx.hosts.resizeTo(spec.flavor) : undefined;
        await moveAndCheck(ctx, uuid, 'a', 'b', request(ctx, uuid, kind, spec, resize), state);
      } finally {
        await cleanUp(ctx, uuid);
      }
    }
  }
}

/** P-MIGRATE-REFUSALS: each bad request or target refused with its typed error before anything moves. */
export async function refuseBadMigrations(ctx: MigrationContext): Promise<void> {
  const { a, b } = ctx.hosts;
  const uuid = ctx.uuid();
  const spec = ctx.hosts.spec(uuid, 100);
  await a.spawn(spec);
  try {
    const usedB = usedOf(await b.getInventory());
    await expectError('prepare from another driver kind', 'R-MIGRATE-KIND', 'INVALID_INPUT', () => b.prepareMigration({ ...request(ctx, uuid, 'COLD', spec), sourceDriver: `${ctx.hosts.kind}-other` }), ['request', 'sourceDriver']);
    await expectError('prepare of a flavor no node holds', 'R-MIGRATE-ROOM', 'INSUFFICIENT_RESOURCES', () => b.prepareMigration(request(ctx, uuid, 'COLD', spec, ctx.hosts.oversized)));
    await expectError('prepare on the host that has the instance', 'R-MIGRATE-EXISTS', 'INSTANCE_EXISTS', () => a.prepareMigration(request(ctx, uuid, 'COLD', spec)));
    if (kindsOf(ctx.caps).includes('LIVE')) {
      await expectError('a live migration that resizes', 'R-MIGRATE-LIVE-FLAVOR', 'INVALID_INPUT', () => b.prepareMigration(request(ctx, uuid, 'LIVE', spec, ctx.hosts.resizeTo(spec.flavor))), ['request', 'flavor']);
    }
    await expectUsed(ctx, 'b', usedB, 'R-MIGRATE-ROOM', 'after refused prepares');
    const unknown = ctx.uuid();
    await expectError('finish of an unknown migration', 'R-MIGRATE-FINISH', 'INSTANCE_NOT_FOUND', () => b.finishMigration(unknown));
    await b.abortMigration(unknown);
    const target = await b.prepareMigration(request(ctx, uuid, 'COLD', spec));
    await expectError('finish before migrate', 'R-MIGRATE-FINISH', 'INSTANCE_NOT_FOUND', () => b.finishMigration(target.migrationId));
    await expectError('migrate to a target of another kind', 'R-MIGRATE-KIND', 'INVALID_INPUT', () => a.migrate(uuid, { ...target, driver: `${ctx.hosts.kind}-other` }), ['target', 'driver']);
    await expectError('migrate with a target prepared for another instance', 'R-MIGRATE-KIND', 'INVALID_INPUT', () => a.migrate(uuid, { ...target, instanceUuid: randomUUID() }), ['target', 'instanceUuid']);
    // The destination itself called with the target: no resize in place, so a move onto itself (R-MIGRATE-SELF).
    await expectError('migrate on the host the target was prepared on', 'R-MIGRATE-SELF', 'INVALID_INPUT', () => b.migrate(uuid, target), ['target', 'sameHost']);
    await expectOn(ctx.hosts, uuid, 'a', 'after refused migrates');
    if (supports(ctx.caps, 'operation.evacuate')) await refuseMoveOntoCopy(ctx, uuid, spec, target);
    await b.abortMigration(target.migrationId);
    await expectUsed(ctx, 'b', usedB, 'R-MIGRATE-ABORT', 'after abort');
    ctx.log.push('every refusal typed, nothing moved, nothing held');
  } finally {
    await cleanUp(ctx, uuid);
  }
}

/**
 * R-MIGRATE-EXISTS at migrate: the destination spawned the instance after the prepare (what a
 * caller evacuating to it would do; only asked of drivers that declare evacuate, whose two copies
 * of one instance live side by side). migrate refuses before anything moves and both stay.
 */
async function refuseMoveOntoCopy(ctx: MigrationContext, uuid: string, spec: MigrationRequestInput['instance'], target: MigrationTarget): Promise<void> {
  const { a, b } = ctx.hosts;
  const before = kept(await a.getInfo(uuid));
  await b.spawn(spec);
  try {
    await expectError('migrate onto a host that has come to hold the instance', 'R-MIGRATE-EXISTS', 'INSTANCE_EXISTS', () => a.migrate(uuid, target));
    const { listed } = await whereIs(ctx.hosts, uuid);
    if (listed.join('+') !== 'a+b') throw new MigrationViolation('R-MIGRATE-EXISTS', `after the refused migrate the instance is listed by [${listed.join(', ')}], expected both copies to stay`);
    if (kept(await a.getInfo(uuid)) !== before) throw new MigrationViolation('R-MIGRATE-ROLLBACK', 'the refused migrate changed the instance on its source');
  } finally {
    await b.destroy(uuid);
  }
}

/**
 * P-MIGRATE-ROUND-TRIP: a running instance goes to B resized and comes back with its first
 * flavor; a cancelled live migration in between leaves it on exactly one host.
 */
export async function roundTrip(ctx: MigrationContext): Promise<void> {
  const uuid = ctx.uuid();
  const spec = ctx.hosts.spec(uuid, 200);
  await ctx.hosts.a.spawn(spec);
  try {
    const kinds = kindsOf(ctx.caps);
    const there = request(ctx, uuid, 'COLD', spec, ctx.hosts.resizeTo(spec.flavor));
    await moveAndCheck(ctx, uuid, 'a', 'b', there, 'RUNNING');
    const resized = { ...spec, flavor: ctx.hosts.resizeTo(spec.flavor) };
    if (kinds.includes('LIVE')) {
      const cancelled = await ctx.hosts.a.prepareMigration(request(ctx, uuid, 'LIVE', resized));
      const outcome = await ctx.hosts.b.migrate(uuid, cancelled, { signal: AbortSignal.abort() }).then(
        () => 'moved',
        (e: { code?: string }) => e.code ?? String(e),
      );
      ctx.log.push(`cancelled live migrate: ${outcome}`);
      if (outcome !== 'moved' && outcome !== 'CANCELLED') throw new MigrationViolation('R-CANCEL', `a cancelled migrate raised ${outcome}`);
      await expectOn(ctx.hosts, uuid, outcome === 'moved' ? 'a' : 'b', 'after a cancelled migrate');
      if (outcome === 'moved') await ctx.hosts.a.finishMigration(cancelled.migrationId);
      else await ctx.hosts.a.abortMigration(cancelled.migrationId);
      if (outcome === 'moved') return;
    }
    // Back with the first flavor: a resize, so cold (R-MIGRATE-LIVE-FLAVOR).
    await moveAndCheck(ctx, uuid, 'b', 'a', request(ctx, uuid, 'COLD', resized, spec.flavor), 'RUNNING');
    // The first migration delivered its instance, which has left b again: still never aborted.
    await expectError('abortMigration of a finished migration whose instance left again', 'R-MIGRATE-ABORT', 'INVALID_STATE', () => ctx.hosts.b.abortMigration(there.migrationId));
  } finally {
    await cleanUp(ctx, uuid);
  }
}

/** P-MIGRATE-IN-PLACE: a resize on the instance's own host (operation.resize-in-place). */
export async function resizeInPlace(ctx: MigrationContext): Promise<void> {
  const { a } = ctx.hosts;
  const uuid = ctx.uuid();
  const spec = ctx.hosts.spec(uuid, 300);
  await a.spawn(spec);
  try {
    const before = await a.getInfo(uuid);
    const usedA = usedOf(await a.getInventory());
    const bigger = ctx.hosts.resizeTo(spec.flavor);
    const target = await a.prepareMigration(request(ctx, uuid, 'COLD', spec, bigger, true));
    await a.migrate(uuid, target);
    await a.finishMigration(target.migrationId);
    await expectOn(ctx.hosts, uuid, 'a', 'after a resize in place');
    if (kept(await a.getInfo(uuid)) !== kept(before)) throw new MigrationViolation('R-MIGRATE-IN-PLACE', 'the resize changed more than the flavor');
    const delta = usageDelta(usageOfFlavor(spec.flavor), usageOfFlavor(bigger));
    await expectUsed(ctx, 'a', plus(usedA, delta), 'R-MIGRATE-IN-PLACE', 'after the resize (the new flavor counts, the old one not)');
    ctx.log.push(`resized in place: ${JSON.stringify(delta)}`);
  } finally {
    await cleanUp(ctx, uuid);
  }
}

/**
 * P-MIGRATE-EVACUATE: the instance of a dead host (A) is spawned again, same uuid, spec and
 * volumes, on B; when A comes back its driver destroys its stale copy, and B's is untouched.
 */
export async function evacuate(ctx: MigrationContext): Promise<void> {
  const { a, b } = ctx.hosts;
  const uuid = ctx.uuid();
  const spec = ctx.hosts.spec(uuid, 400);
  await a.spawn(spec);
  try {
    const onA = await a.getInfo(uuid);
    await b.spawn(spec);
    ctx.log.push('spawned again on b from the spec and volumes');
    const onB = await b.getInfo(uuid);
    if (kept(onB) !== kept(onA)) throw new MigrationViolation('R-EVACUATE', `the evacuated instance is ${kept(onB)}, the original was ${kept(onA)}`);
    await a.destroy(uuid);
    ctx.log.push('a destroyed its stale copy');
    await expectOn(ctx.hosts, uuid, 'b', 'after the stale copy was destroyed');
    if (kept(await b.getInfo(uuid)) !== kept(onB)) throw new MigrationViolation('R-DESTROY-OWNED', 'destroying the stale copy on a changed the evacuated instance on b');
  } finally {
    await cleanUp(ctx, uuid);
  }
}
