import {
  CAPABILITY_IDS,
  operationsOfCapability,
  type CapabilityId,
  type DriverCapabilities,
  type OperationName,
} from '@nova-common/core';
import type { CapabilityResult, PropertyResult } from '../result.js';
import { unsupportedPropertyId } from '../properties/catalog.js';

/**
 * What a run did to each capability, from the calls it made: `touched` when at least one of
 * its operations was called (or, for a capability without operations, its evidence was seen),
 * `exercised` when every one of its operations was, so every column of the semantics table it
 * owns was walked.
 */
export interface Exercise {
  touched: Set<CapabilityId>;
  exercised: Set<CapabilityId>;
  /** Per capability touched but not exercised: the operations never called. */
  notCalled: Map<CapabilityId, OperationName[]>;
}

/**
 * `calls` counts the calls of each operation; `observed` names the capabilities without
 * operations of their own whose evidence the run saw (images used by a spawn, lifecycle events
 * judged, out-of-band causes).
 */
export function exerciseOf(calls: ReadonlyMap<string, number>, observed: ReadonlySet<CapabilityId>): Exercise {
  const touched = new Set<CapabilityId>();
  const exercised = new Set<CapabilityId>();
  const notCalled = new Map<CapabilityId, OperationName[]>();
  for (const id of CAPABILITY_IDS) {
    const ops = operationsOfCapability(id);
    if (ops.length === 0) {
      if (observed.has(id)) {
        touched.add(id);
        exercised.add(id);
      }
      continue;
    }
    const missing = ops.filter((op) => (calls.get(op) ?? 0) === 0);
    if (missing.length < ops.length) touched.add(id);
    if (missing.length === 0) exercised.add(id);
    else if (missing.length < ops.length) notCalled.set(id, missing);
  }
  return { touched, exercised, notCalled };
}

/**
 * The support matrix from evidence, as the report's legend states it:
 *
 * - `missing`: declared missing, and its P-UNSUPPORTED-* property passed;
 * - `partial`: declared partial, or a property that exercised the capability failed. That is
 *   the property that failed on one of its operations, and every other failed property that
 *   called one of them too (a failed property's verdict covers everything it exercised; the
 *   notes tell the two apart);
 * - `complete`: declared supported, every one of its operations was called (every table
 *   column it owns walked), and every property exercising it passed;
 * - `unknown`: everything else (not run, filtered out, not fully exercised, or declared
 *   missing without the verification passing).
 *
 * `failedCaps` names, per capability, what failed on its own operations; `exercised` holds the
 * capabilities whose every operation was called, `touched` (default: `exercised`) those with
 * at least one call.
 */
export function computeMatrix(
  caps: DriverCapabilities,
  properties: PropertyResult[],
  failedCaps: Map<CapabilityId, string[]>,
  exercised: Set<CapabilityId>,
  touched: Set<CapabilityId> = exercised,
  notCalled: ReadonlyMap<CapabilityId, readonly string[]> = new Map(),
): CapabilityResult[] {
  return CAPABILITY_IDS.map((id): CapabilityResult => {
    const declared = caps.capabilities[id]?.level ?? 'missing';
    const evidence = properties.filter((p) => p.status !== 'skipped' && p.capabilities.includes(id)).map((p) => p.id);
    const base = { id, declared, evidence };
    if (declared === 'missing') {
      const p = properties.find((x) => x.id === unsupportedPropertyId(id));
      if (p?.status === 'passed') return { ...base, status: 'missing' };
      if (p?.status === 'failed') return { ...base, status: 'unknown', notes: `declared missing, but ${p.counterexample?.message ?? 'UNSUPPORTED was not raised'}` };
      return { ...base, status: 'unknown', notes: p?.reason ?? 'not run' };
    }
    const own = failedCaps.get(id) ?? [];
    const alsoFailed = touched.has(id)
      ? properties.filter((p) => p.status === 'failed' && p.capabilities.includes(id) && !own.includes(p.id)).map((p) => p.id)
      : [];
    if (own.length > 0 || alsoFailed.length > 0) {
      const notes = [
        ...(own.length > 0 ? [`failed: ${own.join(', ')}`] : []),
        ...(alsoFailed.length > 0 ? [`${alsoFailed.join(', ')} failed elsewhere and also exercised this capability, so its verdict does not vouch for it`] : []),
      ];
      return { ...base, status: 'partial', notes: notes.join('; ') };
    }
    if (!exercised.has(id) || evidence.length === 0) {
      const never = notCalled.get(id);
      const notes = never !== undefined && never.length > 0
        ? `declared, but this run never called ${never.join(', ')}`
        : 'declared, but not exercised by this run';
      return { ...base, status: 'unknown', notes };
    }
    if (declared === 'partial') return { ...base, status: 'partial', notes: caps.capabilities[id]?.notes ?? 'declared partial' };
    return { ...base, status: 'complete' };
  });
}
