import type { InstanceInfo, InstanceSpecInput, RuleId } from '@nova-common/core';
import type { ResolvedOptions } from '../config.js';
import { callArgs, describeCall, invoke, type ContractCall } from '../commands/call.js';
import { Model } from '../model/model.js';
import type { PropertyId } from '../properties/catalog.js';
import type { StepRecord } from '../result.js';
import { compareInfo, compareInventory, compareList } from '../run/compare.js';
import { settleAfterDestroy } from '../run/fixed.js';
import { errorCode, errorMessage, sleep, type Session } from '../run/session.js';
import { Violation, show } from '../run/violation.js';
import { TIMED_OUT, agreement, endState, explanations, sameOutcomes, type EndInstance, type Explanation, type Outcome } from './linearize.js';
import type { Scenario } from './scenario.js';

/** What one case did: its steps (setup, then the lanes' calls), and the violation it found. */
export interface RoundResult {
  trace: StepRecord[];
  violation: Violation | undefined;
  /** The specs sent to the driver (after adaptSpec), by uuid: the program spawns these. */
  sent: Map<string, InstanceSpecInput>;
  /** The setup's steps and each lane's steps (for the program). */
  setupSteps: StepRecord[];
  laneSteps: StepRecord[][];
  /** What one call at a time allows: each order's outcomes and end state (deduplicated). */
  allowed: Allowed[];
}

export interface Allowed {
  outcomes: Outcome[][];
  end: EndInstance[];
}

/** The spawn call as the model judges it: with the flavor adaptSpec sends (it decides what fits and what is used). */
function adapted(call: ContractCall, options: ResolvedOptions, sent: Map<string, InstanceSpecInput>): { call: ContractCall; args: unknown[] } {
  if (call.op !== 'spawn') return { call, args: callArgs(call) };
  const spec = options.adaptSpec(call.spec);
  sent.set(call.spec.uuid.toLowerCase(), spec);
  return { call: spec.flavor === call.spec.flavor ? call : { ...call, spec: { ...call.spec, flavor: spec.flavor } }, args: [spec] };
}

const outcomeText = (lanes: readonly (readonly Outcome[])[], scenario: Scenario): string =>
  lanes.map((lane, l) => `[${lane.map((o, i) => `${describeCall(scenario.lanes[l]!.calls[i]!)}: ${o}`).join(', ')}]`).join(' ∥ ');

/** The end state the driver reports: getInfo of every uuid of the case, the list, the inventory. */
interface Observed {
  infos: Map<string, InstanceInfo | string>;
  list: Awaited<ReturnType<Session['driver']['listInstances']>>;
  inventory: Awaited<ReturnType<Session['driver']['getInventory']>>;
}

async function observeEnd(session: Session, uuids: readonly string[]): Promise<Observed> {
  const driver = session.driver;
  const infos = new Map<string, InstanceInfo | string>();
  for (const uuid of uuids) {
    try {
      infos.set(uuid, await driver.getInfo(uuid));
    } catch (error) {
      infos.set(uuid, errorCode(error));
    }
  }
  return { infos, list: await driver.listInstances(), inventory: await driver.getInventory() };
}

/** The first difference between what the driver reports and what an explanation's model holds. */
function endProblem(model: Model, uuids: readonly string[], seen: Observed): { rule: RuleId; message: string } | undefined {
  for (const uuid of uuids) {
    const inst = model.get(uuid);
    const info = seen.infos.get(uuid)!;
    if (inst === undefined) {
      if (info !== 'INSTANCE_NOT_FOUND') return { rule: 'R-INFO-UNKNOWN', message: `getInfo(${uuid}) reports ${typeof info === 'string' ? info : `${info.powerState}/${info.mode}`}; the model has no such instance` };
      continue;
    }
    if (typeof info === 'string') return { rule: 'R-INFO-UNKNOWN', message: `getInfo(${uuid}) raised ${info}; the model has it ${inst.state}` };
    const p = compareInfo(inst, info, 'R-INFO-FRESH')[0];
    if (p) return { rule: p.rule, message: `getInfo(${uuid}): ${p.message}` };
  }
  const list = compareList(model, seen.list);
  if (list) return list;
  model.expirePending();
  return compareInventory(model, [], seen.inventory, performance.now());
}

/**
 * Run one case: the setup calls one by one (each judged by the model), the lanes side by side,
 * then the end state; the outcomes and the end state must be those of some order of the lanes'
 * calls (linearize.ts). Whatever happens, every instance of the case is destroyed afterwards.
 */
export async function runScenario(session: Session, options: ResolvedOptions, property: PropertyId, scenario: Scenario): Promise<RoundResult> {
  const trace: StepRecord[] = [];
  const sent = new Map<string, InstanceSpecInput>();
  let result: RoundResult;
  let cleanup: Violation | undefined;
  try {
    result = await race(session, options, property, scenario, trace, sent);
  } catch (error) {
    // A read that threw (the list, the inventory, the baseline): the property fails, the run goes on.
    const message = `${scenario.title}: unexpected error: ${errorCode(error)}: ${errorMessage(error)}`;
    result = { trace, violation: new Violation(property, 'R-GEN-ERRORS', message, undefined), sent, setupSteps: [...trace], laneSteps: [], allowed: [] };
  } finally {
    for (const uuid of scenario.uuids) {
      try {
        await session.driver.destroy(uuid);
        session.count('destroy');
      } catch (error) {
        cleanup ??= new Violation(property, 'R-DESTROY-IDEMPOTENT', `cleanup: destroy(${uuid}) failed with ${errorCode(error)}: ${show(errorMessage(error))}`, 'destroy');
      }
    }
    await settleAfterDestroy(session);
  }
  if (result.violation === undefined && cleanup !== undefined) result.violation = cleanup;
  return result;
}

async function race(session: Session, options: ResolvedOptions, property: PropertyId, scenario: Scenario, trace: StepRecord[], sent: Map<string, InstanceSpecInput>): Promise<RoundResult> {
  const driver = session.driver;
  let violation: Violation | undefined;
  for (const uuid of scenario.uuids) session.known.add(uuid);
  const baseline = await session.baseline();
  const model = new Model(baseline, 0);
  const setup: ContractCall[] = [];
  for (const raw of scenario.setup) {
    const { call, args } = adapted(raw, options, sent);
    model.expirePending();
    const e = model.expect(call);
    const record: StepRecord = { op: call.op, args, expected: e.ok ? { ok: true, detail: e.to } : { ok: false, error: e.error } };
    trace.push(record);
    let outcome: Outcome = 'ok';
    try {
      await invoke(driver, call, args, options.simulate);
      record.actual = { ok: true };
    } catch (error) {
      outcome = errorCode(error);
      record.actual = { ok: false, error: outcome, message: errorMessage(error) };
    }
    session.count(call.op);
    const want = e.ok ? 'ok' : e.error;
    if (outcome !== want) {
      violation = new Violation(property, e.rule, `before the race (${scenario.title}): ${describeCall(call)} gave ${outcome}, expected ${want}`, call.op);
      return { trace, violation, sent, setupSteps: [...trace], laneSteps: [], allowed: [] };
    }
    if (e.ok) model.apply(call, e, performance.now());
    setup.push(call);
  }

  // The race: every lane submitted in the same tick (after its delay), each lane's calls in order.
  const lanes = scenario.lanes.map((lane) => lane.calls.map((c) => adapted(c, options, sent)));
  const observed: Outcome[][] = lanes.map(() => []);
  const records: StepRecord[][] = lanes.map(() => []);
  await Promise.all(
    lanes.map(async (lane, l) => {
      const delay = scenario.lanes[l]!.delayMs;
      if (delay > 0) await sleep(delay);
      for (const { call, args } of lane) {
        const record: StepRecord = { op: `${call.op} [lane ${l + 1} of ${lanes.length}, concurrent]`, args };
        records[l]!.push(record);
        try {
          await invoke(driver, call, args, options.simulate);
          observed[l]!.push('ok');
          record.actual = { ok: true };
        } catch (error) {
          const code = errorCode(error);
          observed[l]!.push(code);
          record.actual = { ok: false, error: code, message: errorMessage(error) };
        }
        session.count(call.op);
      }
    }),
  );
  session.commands += lanes.reduce((n, l) => n + l.length, 0);
  if (lanes.some((lane) => lane.some(({ call }) => call.op === 'destroy'))) await settleAfterDestroy(session);
  const seen = await observeEnd(session, scenario.uuids);

  const calls = lanes.map((lane) => lane.map((x) => x.call));
  // A TIMEOUT leaves the call's effect unknown: explained both ways (linearize.ts).
  const timedOut = observed.map((lane) => lane.map((o) => o === TIMED_OUT));
  const strict = explanations(baseline, setup, calls);
  const all = timedOut.some((lane) => lane.includes(true)) ? [...strict, ...explanations(baseline, setup, calls, timedOut)] : strict;
  const matching = all.filter((e) => sameOutcomes(e, observed));
  const expectedFrom = (e: Explanation): void => {
    records.forEach((lane, l) => lane.forEach((r, i) => {
      const o = e.outcomes[l]![i]!;
      r.expected = o === 'ok' ? { ok: true } : { ok: false, error: o as 'INSTANCE_EXISTS' };
    }));
  };
  if (matching.length === 0) {
    // The order closest to what happened names the call no order explains.
    const closest = all.reduce((best, e) => (agreement(e, observed) > agreement(best, observed) ? e : best), all[0]!);
    expectedFrom(closest);
    let rule: RuleId = 'R-GEN-ERRORS';
    let key: string | undefined;
    closest.outcomes.forEach((lane, l) => lane.forEach((o, i) => {
      if (key === undefined && o !== observed[l]![i]) {
        rule = closest.rules[l]![i]!;
        key = calls[l]![i]!.op;
      }
    }));
    const allowed = [...new Set(strict.map((e) => outcomeText(e.outcomes, scenario)))];
    violation = new Violation(property, rule, `${scenario.title}: no order of the concurrent calls explains their outcomes: the driver gave ${outcomeText(observed, scenario)}; one call at a time, the model allows ${allowed.join(' or ')}`, key);
  } else {
    expectedFrom(matching[0]!);
    let first: { rule: RuleId; message: string } | undefined;
    const explained = matching.some((e) => {
      const p = endProblem(e.model, scenario.uuids, seen);
      first ??= p;
      return p === undefined;
    });
    if (!explained && first !== undefined) {
      const p = first as { rule: RuleId; message: string };
      const key = calls.flat()[0]?.op;
      violation = new Violation(property, p.rule, `${scenario.title}: the outcomes ${outcomeText(observed, scenario)} are those of ${matching.length === 1 ? 'one order' : `${matching.length} orders`} of the calls, but the state left is none of theirs: ${p.message}`, key);
    }
  }
  const setupSteps = [...trace];
  trace.push(...interleaveRecords(records));
  const allowed = new Map<string, Allowed>();
  for (const e of all) {
    const a = { outcomes: e.outcomes, end: endState(e.model, scenario.uuids) };
    allowed.set(JSON.stringify(a), a);
  }
  return { trace, violation, sent, setupSteps, laneSteps: records, allowed: [...allowed.values()] };
}

/** The lanes' steps for the trace: the first call of every lane, then the second ones. */
function interleaveRecords(records: StepRecord[][]): StepRecord[] {
  const out: StepRecord[] = [];
  const longest = Math.max(0, ...records.map((r) => r.length));
  for (let i = 0; i < longest; i++) for (const lane of records) if (lane[i]) out.push(lane[i]!);
  return out;
}
