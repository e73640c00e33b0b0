import { OPERATIONS, type CapabilityId, type DriverCapabilities } from '@nova-common/core';
import type { ResolvedOptions } from '../config.js';
import type { Counterexample } from '../result.js';
import { commandScope } from '../run/scope.js';
import type { Session } from '../run/session.js';
import type { Violation } from '../run/violation.js';
import { renderConcurrencyProgram } from '../concurrency/program.js';
import { runScenario, type RoundResult } from '../concurrency/round.js';
import { ALL_LANE_OPS, laneOpAllowed, operationOf, scenarios, type ConcurrencyKind, type Scenario, type ScenarioContext } from '../concurrency/scenario.js';
import type { DriverIdentity } from '../config.js';
import type { PropertyId } from './catalog.js';

/**
 * P-CONCURRENT-INSTANCES and P-CONCURRENT-CALLS: the fixed cases (the named races), then a
 * few drawn from the seed; the first failing case is cut down call by call while it still
 * fails the same way.
 */

export const CONCURRENCY_PROPERTY_OF: Record<ConcurrencyKind, PropertyId> = {
  instances: 'P-CONCURRENT-INSTANCES',
  calls: 'P-CONCURRENT-CALLS',
};

/** Cases drawn from the seed beyond the fixed ones: one per ten sequences of the run, at least one. */
export const randomCases = (options: Pick<ResolvedOptions, 'runs'>): number => Math.max(1, Math.ceil(options.runs / 10));

/** Most re-runs spent cutting one failing case down. */
const MINIMISE_BUDGET = 40;

function contextOf(caps: DriverCapabilities, options: ResolvedOptions): ScenarioContext {
  const scope = commandScope(caps, options, { crash: false, noState: false });
  const ec = caps.eventualConsistency;
  return {
    options,
    scope,
    delayedRelease: ec.resourceReleaseMs > 0 || ec.nodeAvailableMs > 0,
    volumes: !scope.excluded.has('attachVolume'),
  };
}

/**
 * The capabilities the concurrency properties exercise on a driver: those of the operations
 * their lanes may call (declared, within the profile filter; volumes only when the run has
 * volumes to give, as for the sequences).
 */
export function concurrencyCapabilities(caps: DriverCapabilities, options: Pick<ResolvedOptions, 'profiles'> & Partial<ResolvedOptions>): CapabilityId[] {
  const scope = commandScope(caps, { volumeConnectionGiven: false, maxInstances: 3, images: [], ...options } as ResolvedOptions, { crash: false, noState: false });
  const ctx: ScenarioContext = { options: options as ResolvedOptions, scope, delayedRelease: false, volumes: !scope.excluded.has('attachVolume') };
  const out = new Set<CapabilityId>();
  for (const op of ALL_LANE_OPS) {
    const cap = OPERATIONS[operationOf(op)].capability;
    if (cap !== null && laneOpAllowed(ctx, op)) out.add(cap);
  }
  return [...out];
}

export interface ConcurrencyOutcome {
  violation: Violation | undefined;
  /** Cases run (the cutting down not counted). */
  runs: number;
  counterexample?: Counterexample;
}

const sameFailure = (a: Violation, b: Violation): boolean => a.property === b.property && a.rule === b.rule;

/** The scenario without one call (lanes left empty are dropped), or undefined past the last call. */
function without(s: Scenario, n: number): Scenario | undefined {
  if (n < s.setup.length) return { ...s, setup: s.setup.filter((_, i) => i !== n) };
  let k = n - s.setup.length;
  for (let l = 0; l < s.lanes.length; l++) {
    const lane = s.lanes[l]!;
    if (k < lane.calls.length) {
      const calls = lane.calls.filter((_, i) => i !== k);
      const lanes = calls.length === 0 ? s.lanes.filter((_, i) => i !== l) : s.lanes.map((x, i) => (i === l ? { ...x, calls } : x));
      return lanes.length === 0 ? undefined : { ...s, lanes };
    }
    k -= lane.calls.length;
  }
  return undefined;
}

/** Remove calls one at a time as long as the case still fails the same way. */
async function minimise(session: Session, options: ResolvedOptions, property: PropertyId, scenario: Scenario, failing: RoundResult): Promise<{ scenario: Scenario; result: RoundResult }> {
  let best = { scenario, result: failing };
  let budget = MINIMISE_BUDGET;
  for (let n = 0; budget > 0; ) {
    const candidate = without(best.scenario, n);
    if (candidate === undefined) break;
    budget--;
    const result = await runScenario(session, options, property, candidate);
    if (result.violation && sameFailure(result.violation, failing.violation!)) best = { scenario: candidate, result };
    else n++;
  }
  return best;
}

/** Run one concurrency property against the session's driver. */
export async function checkConcurrency(session: Session, options: ResolvedOptions, kind: ConcurrencyKind, salt: number, identity: DriverIdentity): Promise<ConcurrencyOutcome> {
  const property = CONCURRENCY_PROPERTY_OF[kind];
  const cases = await scenarios(contextOf(session.caps, options), kind, randomCases(options), salt);
  let runs = 0;
  for (const scenario of cases) {
    runs++;
    const result = await runScenario(session, options, property, scenario);
    if (result.violation === undefined) continue;
    const small = await minimise(session, options, property, scenario, result);
    const v = small.result.violation!;
    const header = { property, rule: v.rule, message: v.message, seed: options.seed };
    return {
      violation: v,
      runs,
      counterexample: { seed: options.seed, path: '', steps: small.result.trace, program: renderConcurrencyProgram(small.result, small.scenario, header, identity), rule: v.rule, message: v.message },
    };
  }
  return { violation: undefined, runs };
}
