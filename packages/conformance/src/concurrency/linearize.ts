import { powerStateOf, type RuleId } from '@nova-common/core';
import type { ContractCall } from '../commands/call.js';
import { Model, type ExistingState, type ModelBaseline } from '../model/model.js';

/**
 * Linearizability against the model: the outcomes concurrent lanes observed, and the state
 * they left, must be those of SOME order of their calls that keeps each lane's own order,
 * run one call at a time through the model. The lanes are few and short (at most three lanes
 * of two calls: 90 orders), so every order is enumerated.
 */

/** A call's outcome as compared: `ok`, or the error code. */
export type Outcome = string;

/** An instance as an order leaves it (what getInfo must then report), or absent. */
export interface EndInstance {
  uuid: string;
  state: ExistingState | 'ABSENT';
  powerState?: string;
  mode?: 'normal' | 'rescue';
  volumes: string[];
}

/** One order of the lanes' calls and what the model says of it. */
export interface Explanation {
  /** The lane of each call, in the order they run. */
  order: number[];
  /** Per lane, the outcome of each of its calls. */
  outcomes: Outcome[][];
  /** Per lane, the rule of each call's expectation (cited when the driver did otherwise). */
  rules: RuleId[][];
  /** The model after the order (setup and calls applied), for comparing the end state. */
  model: Model;
}

/** Long enough ago that a destroyed instance's resources count as released: the check is not about release timing. */
const PAST = -1e15;

/** The model after the setup calls (each applied as the model expects: the run has already checked them). */
export function modelAfter(baseline: ModelBaseline, setup: readonly ContractCall[]): Model {
  const model = new Model(baseline, 0);
  for (const call of setup) apply(model, call);
  return model;
}

function apply(model: Model, call: ContractCall): { outcome: Outcome; rule: RuleId } {
  model.expirePending();
  const e = model.expect(call);
  if (e.ok) model.apply(call, e, PAST);
  return { outcome: e.ok ? 'ok' : e.error, rule: e.rule };
}

/** Every order of the lanes' calls that keeps each lane's order (lane indices, one per call). */
export function interleavings(lengths: readonly number[]): number[][] {
  const out: number[][] = [];
  const left = [...lengths];
  const order: number[] = [];
  const total = lengths.reduce((a, b) => a + b, 0);
  const walk = (): void => {
    if (order.length === total) {
      out.push([...order]);
      return;
    }
    for (let l = 0; l < left.length; l++) {
      if (left[l] === 0) continue;
      left[l]!--;
      order.push(l);
      walk();
      order.pop();
      left[l]!++;
    }
  };
  walk();
  return out;
}

/** The outcome a call that timed out shows: its effect is unknown (the errors table's TIMEOUT). */
export const TIMED_OUT = 'TIMEOUT';

/**
 * What the model says of each order of the lanes, from the state after `setup`.
 *
 * A call the driver answered with TIMEOUT (`timedOut[lane][i]`) may or may not have taken
 * effect: the errors table says its outcome is unknown. Such a call is explained twice, once
 * applied and once not, and shows TIMEOUT either way (an indeterminate operation, as
 * linearizability checkers treat a call whose answer was lost). A driver that times out is
 * still held to the state it leaves: that state must be one of the two.
 */
export function explanations(
  baseline: ModelBaseline,
  setup: readonly ContractCall[],
  lanes: readonly (readonly ContractCall[])[],
  timedOut: readonly (readonly boolean[])[] = [],
): Explanation[] {
  const unknown = timedOut.reduce((n, lane) => n + lane.filter(Boolean).length, 0);
  const out: Explanation[] = [];
  for (const order of interleavings(lanes.map((l) => l.length))) {
    // Each subset of the timed-out calls taken as applied (bit k: the k-th timed-out call in this order).
    for (let applied = 0; applied < 1 << unknown; applied++) {
      const model = modelAfter(baseline, setup);
      const next = lanes.map(() => 0);
      const outcomes: Outcome[][] = lanes.map(() => []);
      const rules: RuleId[][] = lanes.map(() => []);
      let k = 0;
      for (const l of order) {
        const i = next[l]!++;
        const call = lanes[l]![i]!;
        if (timedOut[l]?.[i] === true) {
          const take = (applied >> k++) & 1;
          model.expirePending();
          const e = model.expect(call);
          if (take && e.ok) model.apply(call, e, PAST);
          outcomes[l]!.push(TIMED_OUT);
          rules[l]!.push(e.rule);
          continue;
        }
        const r = apply(model, call);
        outcomes[l]!.push(r.outcome);
        rules[l]!.push(r.rule);
      }
      out.push({ order, outcomes, rules, model });
    }
  }
  return out;
}

/** How many calls of an explanation have the outcome observed. */
export function agreement(e: Explanation, observed: readonly (readonly Outcome[])[]): number {
  let n = 0;
  e.outcomes.forEach((lane, l) => lane.forEach((o, i) => (n += o === observed[l]![i] ? 1 : 0)));
  return n;
}

export function sameOutcomes(e: Explanation, observed: readonly (readonly Outcome[])[]): boolean {
  return e.outcomes.every((lane, l) => lane.length === observed[l]!.length && lane.every((o, i) => o === observed[l]![i]));
}

/** The end state of an explanation for the given uuids, as a program asserts it. */
export function endState(model: Model, uuids: readonly string[]): EndInstance[] {
  return uuids.map((uuid) => {
    const inst = model.get(uuid);
    if (inst === undefined) return { uuid, state: 'ABSENT', volumes: [] };
    return { uuid, state: inst.state, powerState: powerStateOf(inst.state), mode: inst.state === 'RESCUE' ? 'rescue' : 'normal', volumes: [...inst.volumes.keys()].sort() };
  });
}
