import type { GuardedDriver, MigrationRequestInput, MigrationTarget } from '@nova-common/core';
import type { StepRecord } from '../../result.js';
import type { HostName, MigrationIntent, Side } from './intents.js';
import type { PairOutcome } from './observe.js';
import type { PairRun, SharedMigration, SharedState } from './pair.js';

/** One concrete call, the same on every pair: the host it goes to, what the report shows, and how each pair makes it. */
export interface ResolvedCall {
  host: HostName;
  op: string;
  /** The arguments as the report shows them (slots as #n, migrations as m<n>). */
  args: unknown[];
  /** The call on one pair (its index among the pairs), and what the pair records when it succeeds. */
  make(pair: PairRun, index: number): { run: () => Promise<unknown>; onOk?: (value: unknown) => void };
  /** What every pair agreeing on `outcome` adds to the shared state. */
  agreed?(state: SharedState, outcome: PairOutcome): void;
}

const other = (h: HostName): HostName => (h === 'a' ? 'b' : 'a');

/** The host an instance is on (a when it is on both or none). */
function hereOf(state: SharedState, slot: number): HostName {
  const w = state.where.get(slot);
  return w === 'b' ? 'b' : 'a';
}

const sideOf = (state: SharedState, slot: number, side: Side): HostName => (side === 'here' ? hereOf(state, slot) : other(hereOf(state, slot)));

/** A slot a command names: spawn names any; every other command one of the instances named so far (before any, the slot itself). */
function named(state: SharedState, slot: number): number {
  // A live instance when there is one: most calls then mean something.
  const live = state.touched.filter((s) => (state.where.get(s) ?? 'none') !== 'none');
  if (live.length > 0) return live[slot % live.length]!;
  if (state.touched.length > 0) return state.touched[slot % state.touched.length]!;
  state.touched.push(slot);
  return slot;
}

/** A migration a command names: one in `prefer` status when there is one (the next step of its protocol), else any. */
function pickOf(state: SharedState, pick: number, prefer: SharedMigration['status']): { m: SharedMigration; index: number } {
  if (pick < 0) return { m: state.migrations[state.migrations.length - 1]!, index: state.migrations.length - 1 };
  const open = state.migrations.filter((m) => m.status === prefer);
  const m = open.length > 0 ? open[pick % open.length]! : state.migrations[pick % state.migrations.length]!;
  return { m, index: state.migrations.indexOf(m) };
}

const becomes = (m: SharedMigration, status: SharedMigration['status']) => (_s: SharedState, outcome: PairOutcome) => {
  if (outcome.result === 'ok') m.status = status;
};

function targetOf(pair: PairRun, id: string): MigrationTarget {
  const t = pair.targets.get(id);
  if (t === undefined) throw new Error(`pair ${pair.name} has no target for migration ${id}`);
  return t.target;
}

const call = (d: GuardedDriver, op: string, ...args: unknown[]): Promise<unknown> => (d as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[op]!(...args);

/** What a run leaves out: a second copy of a live instance (`evacuate: false`). */
export interface Allowed {
  evacuate: boolean;
}

/** Whether the command can run in this state (fast-check's precondition). */
export function canRun(state: SharedState, intent: MigrationIntent, allowed: Allowed = { evacuate: true }): boolean {
  switch (intent.kind) {
    case 'spawn': {
      // Spawning an instance that lives on the other host is an evacuation (R-EVACUATE): only when every host declares it.
      const w = state.where.get(intent.slot) ?? 'none';
      return allowed.evacuate || w === 'none' || w === intent.host;
    }
    case 'migrate':
      // Also on the host the migration was prepared on: R-MIGRATE-SELF decides that one.
      return state.migrations.length > 0;
    case 'move':
    case 'finish-unknown':
    case 'abort-unknown':
    case 'power':
    case 'prepare':
    case 'destroy':
      return true;
    default:
      return state.migrations.length > 0;
  }
}

/** The concrete call an intent makes now. */
export function resolve(state: SharedState, intent: Exclude<MigrationIntent, { kind: 'move' }>): ResolvedCall {
  switch (intent.kind) {
    case 'spawn': {
      const slot = intent.slot;
      if (!state.touched.includes(slot)) state.touched.push(slot);
      return {
        host: intent.host,
        op: 'spawn',
        args: [`spec(#${slot})`],
        make: (pair) => ({ run: () => pair.hosts[intent.host].spawn(pair.spec(state, slot)), onOk: () => pair.flavors.delete(slot) }),
      };
    }
    case 'power': {
      const slot = named(state, intent.slot);
      const host = hereOf(state, slot);
      const extra = intent.op === 'powerOff' ? [{ gracefulTimeoutMs: 0 }] : [];
      return { host, op: intent.op, args: [`#${slot}`, ...extra], make: (pair) => ({ run: () => call(pair.hosts[host], intent.op, state.uuids[slot], ...extra) }) };
    }
    case 'destroy': {
      const slot = named(state, intent.slot);
      const host = sideOf(state, slot, intent.on);
      return { host, op: 'destroy', args: [`#${slot}`], make: (pair) => ({ run: () => pair.hosts[host].destroy(state.uuids[slot]!) }) };
    }
    case 'prepare': {
      const slot = named(state, intent.slot);
      const dest = sideOf(state, slot, intent.to === 'here' ? 'here' : 'there');
      const id = state.fresh();
      const v = intent.variant;
      const shown = {
        migrationId: `m${state.migrations.length}`,
        kind: v === 'bad-kind' ? 'WARM' : intent.migration,
        sourceDriver: v === 'foreign-source' ? '<kind>-other' : '<kind>',
        instance: `spec(#${slot})`,
        ...(v === 'resized' ? { flavor: 'resized' } : v === 'oversized' ? { flavor: 'oversized' } : {}),
      };
      return {
        host: dest,
        op: 'prepareMigration',
        args: [shown],
        make: (pair, index) => {
          const instance = pair.spec(state, slot);
          const request = {
            migrationId: id,
            kind: v === 'bad-kind' ? 'WARM' : intent.migration,
            sourceDriver: v === 'foreign-source' ? `${state.kind(index)}-other` : state.kind(index),
            instance,
            ...(v === 'resized' ? { flavor: pair.hosts.resizeTo(instance.flavor) } : v === 'oversized' ? { flavor: pair.hosts.oversized } : {}),
          } as MigrationRequestInput;
          pair.attempted.push({ id, host: dest });
          return {
            run: () => pair.hosts[dest].prepareMigration(request),
            onOk: (target) => pair.targets.set(id, { request, target: target as MigrationTarget }),
          };
        },
        agreed: (s, outcome) => {
          if (outcome.result === 'ok') s.migrations.push({ id, slot, dest, status: 'prepared' });
        },
      };
    }
    case 'prepare-again': {
      const { m, index } = pickOf(state, intent.pick, 'prepared');
      return {
        host: m.dest,
        op: 'prepareMigration',
        args: [`<the request of m${index}>`],
        make: (pair) => ({ run: () => pair.hosts[m.dest].prepareMigration(pair.targets.get(m.id)!.request) }),
      };
    }
    case 'migrate': {
      const { m, index } = pickOf(state, intent.pick, 'prepared');
      const host = sideOf(state, m.slot, intent.on);
      return {
        host,
        op: 'migrate',
        args: [`#${m.slot}`, intent.foreign ? `{ ...m${index}, driver: '<kind>-other' }` : `m${index}`],
        make: (pair, i) => {
          const target = targetOf(pair, m.id);
          const sent = intent.foreign ? { ...target, driver: `${state.kind(i)}-other` } : target;
          return { run: () => pair.hosts[host].migrate(state.uuids[m.slot]!, sent), onOk: () => pair.flavors.set(m.slot, target.flavor) };
        },
        agreed: becomes(m, 'delivered'),
      };
    }
    case 'finish':
    case 'abort': {
      const { m, index } = pickOf(state, intent.pick, intent.kind === 'finish' ? 'delivered' : 'prepared');
      const op = intent.kind === 'finish' ? 'finishMigration' : 'abortMigration';
      return { host: m.dest, op, args: [`m${index}`], make: (pair) => ({ run: () => call(pair.hosts[m.dest], op, m.id) }), agreed: becomes(m, 'closed') };
    }
    case 'finish-unknown':
    case 'abort-unknown': {
      const op = intent.kind === 'finish-unknown' ? 'finishMigration' : 'abortMigration';
      const id = state.fresh();
      return { host: intent.host, op, args: ['<an id never prepared>'], make: (pair) => ({ run: () => call(pair.hosts[intent.host], op, id) }) };
    }
  }
}

/** The report's record of a call: `<host>.<operation>`, its arguments, and what the first pair did. */
export function stepRecord(resolved: ResolvedCall, outcome: PairOutcome): StepRecord {
  return {
    op: `${resolved.host}.${resolved.op}`,
    args: resolved.args,
    actual: outcome.result === 'ok' ? { ok: true, detail: outcome.target ?? outcome.instances } : { ok: false, error: outcome.result },
  };
}
