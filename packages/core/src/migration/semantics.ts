import type { ErrorCode } from '../errors/codes.js';
import type { MigrationKind } from '../schemas/migration.js';
import { SEMANTIC_STATES, type SemanticState } from '../semantics/states.js';

/**
 * What `migrate` does in each state of the instance on its source, per kind of migration
 * (since 1.2.0). The instance keeps its state across a migration: a cell either moves it and
 * it arrives in `to` on the destination (its state on the source becomes ABSENT), or refuses
 * with `error` and nothing moves. docs/contract.md renders the reasons.
 */
export type MigrationCell =
  | { readonly kind: 'ok'; readonly to: SemanticState; readonly rule: MigrationRuleId; readonly why: string }
  | { readonly kind: 'error'; readonly error: ErrorCode; readonly rule: MigrationRuleId; readonly why: string };

/** The id of one cell: R-MIGRATE-<KIND>-<STATE>, e.g. R-MIGRATE-LIVE-PAUSED. */
export type MigrationRuleId = `R-MIGRATE-${MigrationKind}-${SemanticState}`;

export const MIGRATION_KINDS: readonly MigrationKind[] = ['LIVE', 'COLD'];

const cell = (kind: MigrationKind, state: SemanticState, outcome: SemanticState | ErrorCode, why: string): MigrationCell =>
  (SEMANTIC_STATES as readonly string[]).includes(outcome)
    ? { kind: 'ok', to: outcome as SemanticState, rule: `R-MIGRATE-${kind}-${state}`, why }
    : { kind: 'error', error: outcome as ErrorCode, rule: `R-MIGRATE-${kind}-${state}`, why };

const ABSENT_WHY = 'There is nothing on this host to move.';
const CRASHED_WHY = 'A crashed guest has no consistent memory or disk to move; power it on or off first, then migrate.';
const NOSTATE_WHY = 'The backend cannot say what the instance is doing; moving it could run it twice. Resolve its state first.';
const RESCUE_WHY = 'A rescued instance runs from a rescue image with its own disk attached as data; moving it would move the wrong boot. Unrescue first (Nova refuses it too).';

export const MIGRATION_SEMANTICS: { readonly [K in MigrationKind]: { readonly [S in SemanticState]: MigrationCell } } = {
  LIVE: {
    ABSENT: cell('LIVE', 'ABSENT', 'INSTANCE_NOT_FOUND', ABSENT_WHY),
    RUNNING: cell('LIVE', 'RUNNING', 'RUNNING', 'The point of a live migration: the guest keeps running, paused only for the last copy of its memory.'),
    PAUSED: cell('LIVE', 'PAUSED', 'PAUSED', 'A paused guest\'s memory is copied like a running one\'s; it arrives paused, as its user left it (libvirt and Nova allow it).'),
    SHUTDOWN: cell('LIVE', 'SHUTDOWN', 'INVALID_STATE', 'There is no running guest to move live; a cold migration moves a stopped instance.'),
    SUSPENDED: cell('LIVE', 'SUSPENDED', 'INVALID_STATE', 'The memory is saved on the source\'s disk, not in a running guest; resume it first, or move it cold once powered off.'),
    CRASHED: cell('LIVE', 'CRASHED', 'INVALID_STATE', CRASHED_WHY),
    NOSTATE: cell('LIVE', 'NOSTATE', 'INVALID_STATE', NOSTATE_WHY),
    RESCUE: cell('LIVE', 'RESCUE', 'INVALID_STATE', RESCUE_WHY),
  },
  COLD: {
    ABSENT: cell('COLD', 'ABSENT', 'INSTANCE_NOT_FOUND', ABSENT_WHY),
    RUNNING: cell('COLD', 'RUNNING', 'RUNNING', 'The instance is stopped for the copy and started again on the destination, as Nova\'s cold migration and resize do.'),
    SHUTDOWN: cell('COLD', 'SHUTDOWN', 'SHUTDOWN', 'A stopped instance moves as it is and stays stopped: a migration never starts what its user stopped.'),
    PAUSED: cell('COLD', 'PAUSED', 'INVALID_STATE', 'Stopping it for the copy would discard the paused guest\'s memory; unpause it (or power it off) first. Nova allows cold migration from ACTIVE and STOPPED only.'),
    SUSPENDED: cell('COLD', 'SUSPENDED', 'INVALID_STATE', 'The saved memory image belongs to the source\'s hypervisor and would be lost; resume it first.'),
    CRASHED: cell('COLD', 'CRASHED', 'INVALID_STATE', CRASHED_WHY),
    NOSTATE: cell('COLD', 'NOSTATE', 'INVALID_STATE', NOSTATE_WHY),
    RESCUE: cell('COLD', 'RESCUE', 'INVALID_STATE', RESCUE_WHY),
  },
};

/** The cell of migrating an instance in `state` by `kind`. */
export function migrationCell(kind: MigrationKind, state: SemanticState): MigrationCell {
  return MIGRATION_SEMANTICS[kind][state];
}

/** Whether `id` names a cell of the migration table. */
export function isMigrationRuleId(id: string): id is MigrationRuleId {
  const m = /^R-MIGRATE-(LIVE|COLD)-([A-Z]+)$/.exec(id);
  return m !== null && (SEMANTIC_STATES as readonly string[]).includes(m[2]!);
}

/**
 * The protocol's own rules (since 1.2.0), cited by the two-host suite. A caller moves an
 * instance with prepareMigration on the destination, migrate on the source, then
 * finishMigration on the destination; abortMigration on the destination when migrate failed
 * or the caller gave up before calling it.
 */
export const MIGRATION_RULES = {
  'R-MIGRATE-ONE-HOST':
    'After every step of a migration, and after any step fails, the instance MUST be listed by exactly one of the two hosts: the source until migrate returns, the destination once it has.',
  'R-MIGRATE-ROLLBACK':
    'When migrate rejects (a refusal, a destination failure, a cancelled call), the instance MUST be on the source in the state it had, with its spec, volumes and interfaces, and the destination MUST hold nothing of it but its reservation.',
  'R-MIGRATE-KEEPS':
    'A migrated instance MUST arrive with its uuid, name, metadata, image, volumes and interfaces, in the state the migration table gives, with the target\'s flavor; nothing of it MAY remain on the source.',
  'R-MIGRATE-KIND':
    'prepareMigration MUST reject a source of another driver kind, and migrate a target of another driver kind or for another instance, with INVALID_INPUT naming the field, before anything moves.',
  'R-MIGRATE-LIVE-FLAVOR':
    'A LIVE request whose flavor differs from the instance\'s MUST be refused with INVALID_INPUT naming request.flavor: a running guest moves with its memory and CPUs as they are, and a resize is a COLD migration.',
  'R-MIGRATE-ROOM':
    'prepareMigration MUST reject with INSUFFICIENT_RESOURCES when no node of the destination has room for the target flavor, and MUST then hold nothing.',
  'R-MIGRATE-EXISTS':
    'prepareMigration on a host that already has the instance (and is not asked for a resize in place) MUST reject with INSTANCE_EXISTS; so MUST migrate, before anything moves, when the destination has come to hold the instance since the prepare (it was spawned there): both copies stay as they are.',
  'R-MIGRATE-SELF':
    'migrate with a target of the source\'s own host that is not a resize in place (sameHost unset) MUST reject with INVALID_INPUT naming target.sameHost, before the instance is looked up.',
  'R-MIGRATE-RESERVE':
    'A prepared migration MUST count its flavor in the destination\'s inventory `used` until migrate delivers its instance (the flavor is then the instance\'s usage, and stays released when the instance leaves again or is destroyed before the finish) or it is aborted (it is then released). An instance that came to the destination otherwise (spawned there, or delivered by another migration) releases no reservation.',
  'R-MIGRATE-IDEMPOTENT':
    'prepareMigration with a migrationId already prepared MUST answer the same target; finishMigration and abortMigration MUST succeed when repeated.',
  'R-MIGRATE-ABORT':
    'abortMigration MUST release the reservation and remove anything of a migration that did not complete, and MUST NOT touch an instance the migration delivered: that is INVALID_STATE (finish it, or destroy it), also once the instance has left again, finished or not. An instance on the destination that this migration did not deliver stays as it is.',
  'R-MIGRATE-FINISH':
    'finishMigration of a migration that has not delivered its instance MUST reject with INSTANCE_NOT_FOUND and change nothing (the instance being there by another way does not count); an unknown migrationId too. migrate with a target whose migration is not prepared on the destination (never prepared, aborted, finished or already delivered) MUST reject with INVALID_INPUT naming target.migrationId, before anything moves.',
  'R-MIGRATE-PROGRESS':
    'getMigrationProgress on the source MUST answer while migrate runs, without waiting for it: the migration\'s id and kind, a phase that only moves forward (COPYING, SWITCHING, CLEANING), and data figures of which the processed part never decreases; phase NONE when no migration of the instance runs there; INSTANCE_NOT_FOUND when the host neither holds the instance nor runs its migration.',
  'R-MIGRATE-IN-PLACE':
    'A driver that declares operation.resize-in-place MUST accept a request with sameHost for an instance it holds, and migrate then changes the flavor without the instance leaving the host.',
  'R-EVACUATE':
    'A driver that declares operation.evacuate MUST spawn, from the spec and volumes of an instance of a dead host, the same instance (same uuid) on its own host; and when the dead host comes back, its driver\'s destroy MUST remove its stale copy without touching the evacuated one.',
} as const;

export type MigrationGeneralRuleId = keyof typeof MIGRATION_RULES;
