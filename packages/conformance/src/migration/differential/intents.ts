import fc from 'fast-check';
import { OPERATIONS, supports, type DriverCapabilities } from '@nova-common/core';

/** One host of a pair. */
export type HostName = 'a' | 'b';

/** A host named relative to an instance: where it is now ("here"), or the other host ("there"). */
export type Side = 'here' | 'there';

/** The power operations that change an instance's state (as the single-host intents call them). */
export const POWER_OPS = ['powerOff', 'powerOn', 'pause', 'unpause'] as const;
export type PowerOp = (typeof POWER_OPS)[number];

/**
 * The flavor of a prepareMigration request: the instance's own, the pair's resize, one no node
 * holds (R-MIGRATE-ROOM), and two malformed requests: a kind the schema does not know, and a
 * source of another driver kind (R-MIGRATE-KIND).
 */
export type PrepareVariant = 'same' | 'resized' | 'oversized' | 'bad-kind' | 'foreign-source';

/**
 * What a generated migration-level command means, before it meets a pair: instances are slots
 * (the same uuid on every pair), hosts are named relative to where the instance is, and
 * migrations are indexes into the migrations prepared so far. A command keeps its meaning
 * when fast-check shrinks the sequence around it; it is resolved against what every pair
 * agreed on so far when it runs.
 */
export type MigrationIntent =
  | { kind: 'spawn'; slot: number; host: HostName }
  | { kind: 'power'; slot: number; op: PowerOp }
  | { kind: 'prepare'; slot: number; migration: 'LIVE' | 'COLD'; variant: PrepareVariant; to: Side }
  /** prepareMigration again with a request already prepared (R-MIGRATE-IDEMPOTENT). */
  | { kind: 'prepare-again'; pick: number }
  /** migrate on the host the instance is on (`here`), or on the other one; `foreign`: a target of another driver kind. */
  | { kind: 'migrate'; pick: number; on: Side; foreign: boolean }
  | { kind: 'finish'; pick: number }
  | { kind: 'abort'; pick: number }
  /** finishMigration / abortMigration of a migration id no host ever prepared. */
  | { kind: 'finish-unknown'; host: HostName }
  | { kind: 'abort-unknown'; host: HostName }
  | { kind: 'destroy'; slot: number; on: Side }
  /** The whole protocol, one call at a time: prepare on the other host, migrate from the instance's host, finish (or abort when migrate failed). */
  | { kind: 'move'; slot: number; migration: 'LIVE' | 'COLD'; resize: boolean };

/** The calls a `move` makes, in order; `pick: -1` is the migration the move just prepared. */
export function stepsOfMove(i: Extract<MigrationIntent, { kind: 'move' }>): MigrationIntent[] {
  return [
    { kind: 'prepare', slot: i.slot, migration: i.migration, variant: i.resize && i.migration === 'COLD' ? 'resized' : 'same', to: 'there' },
    { kind: 'migrate', pick: -1, on: 'here', foreign: false },
    { kind: 'finish', pick: -1 },
  ];
}

/** Which commands a run may generate: only what every host of every pair declares. */
export interface MigrationScope {
  caps: DriverCapabilities;
  /** Instance slots (distinct uuids) a sequence uses. */
  instances: number;
}

export const liveAllowed = (caps: DriverCapabilities): boolean => supports(caps, 'operation.migrate') && supports(caps, 'operation.live-migrate');

/** The power operations every host declares. */
export function powerOps(caps: DriverCapabilities): PowerOp[] {
  return POWER_OPS.filter((op) => {
    const cap = OPERATIONS[op].capability;
    return cap === null || supports(caps, cap);
  });
}

/** Weighted arbitraries of every command the scope allows (none without operation.migrate). */
export function migrationIntentArbitraries(scope: MigrationScope): { arbitrary: fc.Arbitrary<MigrationIntent>; weight: number }[] {
  if (!supports(scope.caps, 'operation.migrate')) return [];
  const slot = fc.nat({ max: scope.instances - 1 });
  const host = fc.constantFrom<HostName>('a', 'b');
  const side = fc.constantFrom<Side>('here', 'there');
  const pick = fc.nat({ max: 7 });
  const kinds: ('LIVE' | 'COLD')[] = liveAllowed(scope.caps) ? ['COLD', 'LIVE'] : ['COLD'];
  const out: { arbitrary: fc.Arbitrary<MigrationIntent>; weight: number }[] = [
    { arbitrary: fc.record({ kind: fc.constant('spawn' as const), slot, host }), weight: 5 },
    {
      // Mostly a valid request to the other host; the malformed ones and a prepare on the instance's own host now and then.
      arbitrary: fc.record({
        kind: fc.constant('prepare' as const),
        slot,
        migration: fc.constantFrom(...kinds),
        variant: fc.oneof(
          { arbitrary: fc.constantFrom<PrepareVariant>('same', 'resized'), weight: 6 },
          { arbitrary: fc.constantFrom<PrepareVariant>('oversized', 'bad-kind', 'foreign-source'), weight: 1 },
        ),
        to: fc.oneof({ arbitrary: fc.constant<Side>('there'), weight: 5 }, { arbitrary: fc.constant<Side>('here'), weight: 1 }),
      }),
      weight: 4,
    },
    { arbitrary: fc.record({ kind: fc.constant('move' as const), slot, migration: fc.constantFrom(...kinds), resize: fc.boolean() }), weight: 4 },
    { arbitrary: fc.record({ kind: fc.constant('prepare-again' as const), pick }), weight: 1 },
    {
      arbitrary: fc.record({
        kind: fc.constant('migrate' as const),
        pick,
        on: fc.oneof({ arbitrary: fc.constant<Side>('here'), weight: 5 }, { arbitrary: fc.constant<Side>('there'), weight: 1 }),
        foreign: fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, { arbitrary: fc.constant(true), weight: 1 }),
      }),
      weight: 4,
    },
    { arbitrary: fc.record({ kind: fc.constant('finish' as const), pick }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('abort' as const), pick }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('finish-unknown' as const), host }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('abort-unknown' as const), host }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('destroy' as const), slot, on: fc.oneof({ arbitrary: fc.constant<Side>('here'), weight: 3 }, { arbitrary: fc.constant<Side>('there'), weight: 1 }) }), weight: 1 },
  ];
  const ops = powerOps(scope.caps);
  if (ops.length > 0) out.push({ arbitrary: fc.record({ kind: fc.constant('power' as const), slot, op: fc.constantFrom(...ops) }), weight: 3 });
  return out;
}

/** One line for fast-check's report of a command. */
export function describeMigrationIntent(i: MigrationIntent): string {
  switch (i.kind) {
    case 'spawn':
      return `spawn(#${i.slot} on ${i.host})`;
    case 'power':
      return `${i.op}(#${i.slot})`;
    case 'prepare':
      return `prepare(#${i.slot} ${i.migration} ${i.variant} ${i.to})`;
    case 'prepare-again':
      return `prepareAgain(m${i.pick})`;
    case 'migrate':
      return `migrate(m${i.pick} on ${i.on}${i.foreign ? ', foreign target' : ''})`;
    case 'finish':
    case 'abort':
      return `${i.kind}(m${i.pick})`;
    case 'finish-unknown':
    case 'abort-unknown':
      return `${i.kind}(on ${i.host})`;
    case 'destroy':
      return `destroy(#${i.slot} ${i.on})`;
    case 'move':
      return `move(#${i.slot} ${i.migration}${i.resize ? ' resized' : ''})`;
  }
}
