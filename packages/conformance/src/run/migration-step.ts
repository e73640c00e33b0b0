import { OPERATIONS, type CapabilityId, type GuardedDriver } from '@nova-common/core';
import type { ResolvedOptions } from '../config.js';
import { MIGRATION_PROPERTY_IDS, type MigrationPropertyId, type PropertyId } from '../properties/catalog.js';
import type { PropertyResult } from '../result.js';
import { OVERSIZED_FLAVOR } from '../model/arbitraries.js';
import { doubledMemory, type MigrationHosts } from '../migration/hosts.js';
import { runMigrationSuite } from '../migration/run.js';
import { sampleSpec } from './fixed.js';
import type { PlannedProperty } from './plan.js';
import { Session } from './session.js';

/** What the two-host properties add to a run: their results, and evidence for the support matrix. */
export interface MigrationStepOutcome {
  results: PropertyResult[];
  /** Capabilities without operations of their own the passing properties exercised (a LIVE kind, a resize in place, evacuate). */
  observed: CapabilityId[];
  /** The capabilities each failed property exercised. */
  failed: { capability: CapabilityId; property: PropertyId }[];
}

/** Count each contract call a host's driver gets (the support matrix sees which operations ran). The guard is frozen: a new object over it. */
function counted(driver: GuardedDriver, counts: Map<string, number>): GuardedDriver {
  const wrapper = Object.create(driver) as GuardedDriver;
  for (const op of Object.keys(OPERATIONS)) {
    const method = (driver as unknown as Record<string, (...a: unknown[]) => unknown>)[op]!;
    Object.defineProperty(wrapper, op, {
      value: (...args: unknown[]) => {
        counts.set(op, (counts.get(op) ?? 0) + 1);
        return method.apply(driver, args);
      },
    });
  }
  return wrapper;
}

/**
 * The P-MIGRATE-* properties of a run: with the second host (resolved.peer) connected, the
 * two-host suite on the session's driver (A) and the peer (B). Planned-skipped properties stay
 * skipped with their reason.
 */
export async function runMigrationStep(session: Session, resolved: ResolvedOptions, plan: readonly PlannedProperty[]): Promise<MigrationStepOutcome> {
  const mine = plan.filter((p) => (MIGRATION_PROPERTY_IDS as readonly PropertyId[]).includes(p.def.id));
  const active = mine.filter((p) => p.skip === undefined);
  const base = (p: PlannedProperty) => ({ id: p.def.id, title: p.def.title, since: p.def.since, rules: p.def.rules, capabilities: p.capabilities });
  const results: PropertyResult[] = mine.filter((p) => p.skip !== undefined).map((p) => ({ ...base(p), status: 'skipped', reason: p.skip!, runs: 0, steps: 0, durationMs: 0 }));
  const outcome: MigrationStepOutcome = { results, observed: [], failed: [] };
  if (active.length === 0 || resolved.peer === undefined) return outcome;
  const peer = await Session.open(resolved.peer.driver, resolved, undefined, undefined, session.stats);
  try {
    const counts = session.stats.opCounts;
    const hosts: MigrationHosts = {
      a: counted(session.driver, counts),
      b: counted(peer.driver, counts),
      kind: resolved.peer.kind,
      spec: (uuid, salt) => resolved.adaptSpec(sampleSpec(resolved, uuid, 7000 + salt)),
      resizeTo: doubledMemory,
      oversized: OVERSIZED_FLAVOR,
      witnesses: { ...(resolved.witness ? { a: resolved.witness } : {}), ...(resolved.peer.witness ? { b: resolved.peer.witness } : {}) },
    };
    const ran = await runMigrationSuite(hosts, { runId: resolved.runId, only: active.map((p) => p.def.id as MigrationPropertyId) });
    for (const r of ran) {
      const p = active.find((x) => x.def.id === r.id)!;
      const stats = { runs: 1, steps: r.log.length, durationMs: r.durationMs };
      if (r.status === 'failed') {
        const message = r.failure!.message;
        const steps = r.log.map((line) => ({ op: 'step', args: [line] }));
        results.push({ ...base(p), status: 'failed', ...stats, counterexample: { seed: resolved.seed, path: '', steps, program: r.log.join('\n'), rule: r.failure!.rule as never, message } });
        for (const capability of p.capabilities) outcome.failed.push({ capability, property: p.def.id });
      } else if (r.status === 'skipped') {
        results.push({ ...base(p), status: 'skipped', reason: r.reason ?? 'the peer does not declare what it needs', ...stats });
      } else {
        results.push({ ...base(p), status: 'passed', ...stats });
        // operation.migrate has operations of its own: the call counts show it; the others have none.
        for (const c of p.capabilities) if (c !== 'operation.migrate') outcome.observed.push(c);
      }
    }
    return outcome;
  } finally {
    await peer.close();
  }
}
