import type { FlavorInput, InstanceSpecInput, MigrationRequestInput, MigrationTarget } from '@nova-common/core';
import type { MigrationHosts } from '../hosts.js';
import type { HostName } from './intents.js';
import { errorCodeOf, locate, normaliseInfo, usageOf, usageUnits, usedNow, type Location, type PairOutcome } from './observe.js';

/** A migration every pair prepared (they agreed), as the sequence refers to it. */
export interface SharedMigration {
  id: string;
  slot: number;
  /** Where it was prepared: finish and abort go there. */
  dest: HostName;
  /** How far its protocol got, as the pairs agreed: commands prefer the next step (migrate a prepared one, finish a delivered one). */
  status: 'prepared' | 'delivered' | 'closed';
}

/**
 * What every pair agreed on so far (fast-check's model): the uuids of the slots, where each
 * instance is, the migrations prepared. Commands resolve against it, so they mean the same
 * on every pair.
 */
export interface SharedState {
  readonly uuids: readonly string[];
  readonly kind: (pair: number) => string;
  /** Slots a command has named, in order of first mention. */
  touched: number[];
  where: Map<number, Location>;
  migrations: SharedMigration[];
  /** A fresh uuid (migration ids, unknown ids). */
  fresh(): string;
}

/** One pair's side of a sequence: its hosts, its record of each instance (as a caller keeps one), its prepared targets. */
export class PairRun {
  /** The flavor each slot's instance has now, as the caller knows it (a spawn's, then each migration's target's). */
  readonly flavors = new Map<number, FlavorInput>();
  /** Targets by migration id (what prepare answered), and the request that made each. */
  readonly targets = new Map<string, { request: MigrationRequestInput; target: MigrationTarget }>();
  /** Every migration id sent to a prepare of this pair, by host: the cleanup aborts them all. */
  readonly attempted: { id: string; host: HostName }[] = [];
  private baseline: Record<HostName, Record<string, number>> = { a: {}, b: {} };

  constructor(
    readonly name: string,
    readonly hosts: MigrationHosts,
  ) {}

  spec(state: SharedState, slot: number): InstanceSpecInput {
    const s = this.hosts.spec(state.uuids[slot]!, slot);
    const flavor = this.flavors.get(slot);
    return flavor === undefined ? s : { ...s, flavor };
  }

  /** The flavor's name relative to the spec's: 'spec', 'resized' (×n), 'oversized', or its id. */
  flavorLabel(flavor: FlavorInput, slot: number): string {
    let f = this.hosts.spec('00000000-0000-4000-8000-000000000000', slot).flavor;
    if (flavor.id === this.hosts.oversized.id) return 'oversized';
    for (let n = 0; n < 4; n++, f = this.hosts.resizeTo(f)) if (f.id === flavor.id) return n === 0 ? 'spec' : n === 1 ? 'resized' : `resized x${n}`;
    return flavor.id;
  }

  async start(): Promise<void> {
    this.baseline = await usedNow(this.hosts);
  }

  /** Run one call and observe every touched instance and both inventories. */
  async step(state: SharedState, call: () => Promise<unknown>, onOk?: (value: unknown) => void): Promise<PairOutcome> {
    let result = 'ok';
    let value: unknown;
    try {
      value = await call();
      onOk?.(value);
    } catch (e) {
      result = errorCodeOf(e);
    }
    return { result, ...(await this.observe(state, value, result)) };
  }

  private async observe(state: SharedState, value: unknown, result: string): Promise<Omit<PairOutcome, 'result'>> {
    // Built in one order on every pair: outcomes compare as JSON.
    let target: PairOutcome['target'];
    const t = value as MigrationTarget | undefined;
    if (result === 'ok' && t !== undefined && typeof t === 'object' && 'migrationId' in t) {
      const slot = state.uuids.findIndex((u) => u.toLowerCase() === t.instanceUuid.toLowerCase());
      target = { kind: t.kind, flavor: this.flavorLabel(t.flavor, slot), sameHost: t.sameHost };
    }
    const instances: PairOutcome['instances'] = {};
    const places = await locate(this.hosts, state.touched.map((s) => state.uuids[s]!));
    for (let i = 0; i < state.touched.length; i++) {
      const slot = state.touched[i]!;
      const { at, on } = places[i]!;
      const entry: PairOutcome['instances'][string] = { at };
      for (const h of on) {
        entry.info ??= {};
        try {
          entry.info[h] = normaliseInfo(await this.hosts[h].getInfo(state.uuids[slot]!), this.spec(state, slot));
        } catch (e) {
          entry.info[h] = errorCodeOf(e);
        }
      }
      instances[`#${slot}`] = entry;
    }
    const now = await usedNow(this.hosts);
    const unit = usageOf(this.hosts.spec('00000000-0000-4000-8000-000000000000', 0).flavor);
    const usage = { a: usageUnits(now.a, this.baseline.a, unit), b: usageUnits(now.b, this.baseline.b, unit) };
    return { ...(target !== undefined ? { target } : {}), instances, usage };
  }

  /** Close every migration this pair was asked to prepare (abort, or finish a delivered one), then destroy every instance on both hosts. */
  async cleanUp(uuids: readonly string[], releaseMs: number): Promise<void> {
    for (const { id, host } of this.attempted) {
      const d = this.hosts[host];
      await d.abortMigration(id).catch(() => d.finishMigration(id).catch(() => undefined));
    }
    for (const uuid of uuids) {
      await this.hosts.a.destroy(uuid).catch(() => undefined);
      await this.hosts.b.destroy(uuid).catch(() => undefined);
    }
    if (releaseMs > 0) await new Promise((r) => setTimeout(r, releaseMs));
  }
}
