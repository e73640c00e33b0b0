import { randomUUID } from 'node:crypto';
import { DriverError, errors, isDriverError } from '../errors/driver-error.js';
import { migrationCell } from '../migration/semantics.js';
import type { MigrationPhase, MigrationProgress, MigrationRequest, MigrationTarget } from '../schemas/migration.js';
import { expectedUsage } from '../semantics/oracle.js';
import { appendConsole, type ExistingState, type InstanceRecord } from './instance.js';
import type { NodePool, ReferenceNode, Usage } from './nodes.js';
import { invalidField } from './validate.js';

/** The reference driver's kind (its manifest's name): reference hosts move instances only among themselves. */
export const REFERENCE_KIND = '@nova-common/core/testing';

/** What the migration desk needs from the driver it belongs to. */
export interface DeskHost {
  readonly instances: Map<string, InstanceRecord>;
  readonly nodes: NodePool;
  readonly consoleLogLimit: number;
}

interface Prepared {
  readonly target: MigrationTarget;
  readonly node: ReferenceNode;
  readonly usage: Usage;
  /** Set when migrate delivered the instance here: the reservation is then the instance's own usage. */
  arrived: boolean;
}

/** A migration running on its source, as getMigrationProgress reads it. */
interface Running {
  readonly target: MigrationTarget;
  readonly startedAt: number;
  /** What the move sends in all: the flavor's memory (LIVE) or root disk (COLD), as a backend would count it. */
  readonly total: number;
  phase: Exclude<MigrationPhase, 'NONE'>;
  processed: number;
}

/** One turn of the event loop: where a real backend's copy would take time, and a progress read gets in. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Reference hosts with a prepared migration, by address: where a source finds its destination,
 * as a libvirt source finds its destination's daemon by URI. A host is listed only while it
 * has prepared migrations, so a driver object that is dropped leaves nothing here.
 */
const DESKS = new Map<string, MigrationDesk>();

/**
 * The migration protocol of one reference backend (both ends): prepare reserves room on a
 * node, migrate hands the instance's record to the destination's desk in one synchronous step
 * (so the instance is always on exactly one host), finish and abort close the destination's
 * books. Every check happens before anything changes.
 */
export class MigrationDesk {
  readonly address = `reference://${randomUUID()}`;
  private readonly prepared = new Map<string, Prepared>();
  /** Migrations finished here: finish is idempotent and abort refuses them. */
  private readonly finished = new Set<string>();
  /** Migrations running on this host as their source, by instance uuid. */
  private readonly running = new Map<string, Running>();

  constructor(private readonly host: DeskHost) {}

  /** DESTINATION: check and reserve. */
  prepare(request: MigrationRequest): MigrationTarget {
    const op = 'prepareMigration';
    const uuid = request.instance.uuid.toLowerCase();
    const again = this.prepared.get(request.migrationId);
    if (again !== undefined) {
      if (again.target.instanceUuid !== uuid) throw invalidField(op, ['request', 'migrationId'], 'already names a migration of another instance');
      return { ...again.target };
    }
    if (request.sourceDriver !== REFERENCE_KIND) {
      throw invalidField(op, ['request', 'sourceDriver'], `must be ${REFERENCE_KIND}: a reference host takes instances only from reference hosts`);
    }
    const flavor = request.flavor ?? request.instance.flavor;
    const usage = Object.entries(expectedUsage(flavor));
    const here = this.host.instances.get(uuid);
    let node: ReferenceNode;
    if (request.sameHost) {
      if (here === undefined) throw errors.notFound(uuid, op);
      node = here.node;
      if (!node.fits(usage)) {
        throw new DriverError('INSUFFICIENT_RESOURCES', { op, target: node.id, detail: 'the node has no room for the new flavor beside the current one' });
      }
    } else {
      if (here !== undefined) throw new DriverError('INSTANCE_EXISTS', { op, target: uuid, detail: 'the instance is already on this host' });
      node = this.place(usage);
    }
    const target: MigrationTarget = {
      migrationId: request.migrationId,
      kind: request.kind,
      driver: REFERENCE_KIND,
      instanceUuid: uuid,
      node: node.id,
      flavor,
      sameHost: request.sameHost,
      address: this.address,
    };
    // Checks done: from here on nothing throws.
    // As Ironic reserves a node for an instance: the node names the instance it is held for.
    this.host.nodes.allocate(node, uuid, usage);
    this.prepared.set(request.migrationId, { target, node, usage, arrived: false });
    DESKS.set(this.address, this);
    return { ...target };
  }

  /**
   * SOURCE: move the instance to the target's desk, or leave it as it is. The copy takes a turn
   * of the event loop (COPYING, where a cancellation still leaves the instance here), the move
   * itself is one synchronous step, and the clean-up another turn (CLEANING).
   */
  async migrate(uuid: string, lookup: () => InstanceRecord | undefined, target: MigrationTarget, signal: AbortSignal | undefined): Promise<void> {
    this.check(uuid, lookup(), target, signal);
    const key = uuid.toLowerCase();
    const total = target.kind === 'LIVE' ? target.flavor.memoryMb * 1024 * 1024 : target.flavor.rootGb * 1024 ** 3;
    const run: Running = { target, startedAt: Date.now(), total, phase: 'COPYING', processed: 0 };
    this.running.set(key, run);
    try {
      await turn();
      run.processed = total;
      run.phase = 'SWITCHING';
      // The instance may have changed while the copy ran (a driver's own backend, not this queue): checked again.
      this.check(uuid, lookup(), target, signal);
      this.move(lookup()!, target);
      run.phase = 'CLEANING';
      await turn();
    } finally {
      this.running.delete(key);
    }
  }

  /** SOURCE: where the migration of `uuid` stands; `here` is whether this host holds the instance. */
  progress(uuid: string, here: boolean): MigrationProgress {
    const key = uuid.toLowerCase();
    const run = this.running.get(key);
    if (run === undefined) {
      if (!here) throw errors.notFound(uuid, 'getMigrationProgress');
      return { instanceUuid: key, phase: 'NONE' };
    }
    return {
      instanceUuid: key,
      phase: run.phase,
      migrationId: run.target.migrationId,
      kind: run.target.kind,
      elapsedMs: Math.max(0, Date.now() - run.startedAt),
      dataTotalBytes: run.total,
      dataProcessedBytes: run.processed,
      dataRemainingBytes: run.total - run.processed,
    };
  }

  /** Every refusal of migrate, before anything moves. */
  private check(uuid: string, record: InstanceRecord | undefined, target: MigrationTarget, signal: AbortSignal | undefined): void {
    const op = 'migrate';
    if (target.driver !== REFERENCE_KIND) throw invalidField(op, ['target', 'driver'], `must be ${REFERENCE_KIND}: this source moves instances only to reference hosts`);
    if (target.instanceUuid !== uuid.toLowerCase()) throw invalidField(op, ['target', 'instanceUuid'], 'names another instance: the target was prepared for it');
    if (target.sameHost && target.address !== this.address) throw invalidField(op, ['target', 'sameHost'], 'is set but the target is another host');
    // R-MIGRATE-SELF: a move onto the host the instance is on is a resize in place, or nothing.
    if (!target.sameHost && target.address === this.address) throw invalidField(op, ['target', 'sameHost'], 'is not set but the target is this host');
    if (record === undefined) throw errors.notFound(uuid, op);
    const cell = migrationCell(target.kind, record.state);
    if (cell.kind === 'error') throw new DriverError(cell.error, { op, target: record.uuid, detail: `${cell.rule}: ${cell.why}` });
    const destination = DESKS.get(target.address);
    const prepared = destination?.prepared.get(target.migrationId);
    if (destination === undefined || prepared === undefined || prepared.arrived) {
      throw invalidField(op, ['target', 'migrationId'], 'is not prepared on the destination (aborted, finished, or never prepared)');
    }
    if (!target.sameHost && destination.host.instances.has(uuid.toLowerCase())) {
      throw new DriverError('INSTANCE_EXISTS', { op, target: uuid, detail: 'R-MIGRATE-EXISTS: the destination has come to hold the instance since the prepare; both copies stay as they are' });
    }
    if (signal?.aborted) throw new DriverError('CANCELLED', { op, target: record.uuid, detail: 'the migration was cancelled before the instance moved' });
  }

  private move(record: InstanceRecord, target: MigrationTarget): void {
    const cell = migrationCell(target.kind, record.state);
    // check() ran just before, in the same synchronous step: the cell allows the move and the destination has it prepared.
    if (cell.kind === 'error') throw new Error(`unreachable: ${cell.rule}`);
    const destination = DESKS.get(target.address)!;
    const prepared = destination.prepared.get(target.migrationId)!;
    // The move itself: one synchronous step, so no caller ever sees the instance on two hosts or none.
    const moved: InstanceRecord = { ...record, node: prepared.node, flavor: target.flavor, usage: prepared.usage, state: cell.to as ExistingState, console: [...record.console] };
    const word = target.sameHost ? 'RESIZED' : `MIGRATED-${target.kind}`;
    appendConsole(moved, `[${moved.uuid}] ${word} migrate: ${record.state} -> ${moved.state}`, this.host.consoleLogLimit);
    const key = record.uuid.toLowerCase();
    this.host.instances.delete(key);
    this.host.nodes.release(record.node, record.usage);
    destination.host.instances.set(key, moved);
    prepared.arrived = true;
  }

  /** DESTINATION: close a delivered migration. */
  finish(migrationId: string): void {
    if (this.finished.has(migrationId)) return;
    const prepared = this.prepared.get(migrationId);
    if (prepared === undefined || !prepared.arrived) {
      throw new DriverError('INSTANCE_NOT_FOUND', {
        op: 'finishMigration',
        target: migrationId,
        detail: prepared === undefined ? 'no migration is prepared here under this id' : 'the instance has not arrived: call migrate on the source first',
      });
    }
    this.finished.add(migrationId);
    this.forget(migrationId);
  }

  /** DESTINATION: give up a migration that did not deliver. */
  abort(migrationId: string): void {
    const prepared = this.prepared.get(migrationId);
    if (this.finished.has(migrationId) || prepared?.arrived === true) {
      throw new DriverError('INVALID_STATE', {
        op: 'abortMigration',
        target: migrationId,
        detail: 'R-MIGRATE-ABORT: the migration delivered its instance here; finish it (or destroy the instance)',
      });
    }
    if (prepared === undefined) return;
    this.host.nodes.release(prepared.node, prepared.usage);
    this.forget(migrationId);
  }

  private forget(migrationId: string): void {
    this.prepared.delete(migrationId);
    if (this.prepared.size === 0) DESKS.delete(this.address);
  }

  private place(usage: Usage): ReferenceNode {
    try {
      return this.host.nodes.place(usage, undefined);
    } catch (e) {
      // The pool words its errors for spawn; the same refusal, said for this operation.
      if (isDriverError(e)) throw new DriverError(e.code, { ...e.toOptions(), op: 'prepareMigration', detail: e.message });
      throw e;
    }
  }
}
