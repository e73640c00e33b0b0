import { supports, type HostInventory, type InstanceInfo, type InstanceSummary, type LifecycleEvent, type RuleId } from '@nova-common/core';
import { describeCall, isSimulation, type SequencedCall } from '../commands/call.js';
import type { Expectation, ModelInstance } from '../model/model.js';
import type { PropertyId } from '../properties/catalog.js';
import { compareInfo, compareInventory, compareList } from './compare.js';
import type { ExecContext } from './context.js';
import { errorCode, errorMessage, type Session } from './session.js';
import { Violation, show } from './violation.js';

const lower = (s: string): string => s.toLowerCase();

/** One call as run, for the observations that follow it. */
export interface Step {
  call: SequencedCall;
  /** The instance it is about (targetOf). */
  target: string | undefined;
  /** Its command key (commandKey). */
  key: string;
  expectation: Expectation;
  /** The event log's size before the call. */
  mark: number;
  /** Whether the call rejected. */
  failed: boolean;
}

/** A read's outcome, either way. */
type InfoOutcome = { v: InstanceInfo } | { err: unknown };
type Failed = { err: unknown };
const asValue = (v: InstanceInfo): InfoOutcome => ({ v });
const asError = (err: unknown): Failed => ({ err });
const asList = (list: InstanceSummary[]): { list: InstanceSummary[] } => ({ list });
const asInventory = (inventory: HostInventory): { inventory: HostInventory } => ({ inventory });
const NONE: readonly ModelInstance[] = [];

/**
 * A read that failed: a violation of the property the read serves, naming what the driver
 * answered (for an output the guard refused as invalid, the fields at fault).
 */
function readFailure(property: PropertyId, rule: RuleId, what: string, error: unknown, key: string | undefined): Violation {
  return new Violation(property, rule, `${what} failed with ${errorCode(error)}: ${errorMessage(error)}`, key, undefined, errorCode(error));
}

/**
 * An event the guard refused (invalid output) never reaches the log: it is reported as such,
 * rather than as a missing event.
 */
function refusedEvent(session: Session, after: string, key: string): void {
  for (; session.violationCursor < session.violations.length; session.violationCursor++) {
    const refused = session.violations[session.violationCursor]!;
    if (refused.op !== 'subscribeEvents') continue;
    session.violationCursor++;
    throw new Violation('P-EVENTS', 'R-EVENT-TRANSITION', `${after}: the driver emitted an invalid event: ${refused.message}`, key);
  }
}

/** The live instances other than `target`, in the model's order. */
function siblingsOf(ctx: ExecContext, target: string | undefined): readonly ModelInstance[] {
  const instances = ctx.model.instances;
  const t = target === undefined ? undefined : lower(target);
  if (instances.size === 0 || (instances.size === 1 && t !== undefined && instances.has(t))) return NONE;
  const out: ModelInstance[] = [];
  for (const [id, inst] of instances) if (id !== t) out.push(inst);
  return out;
}

/**
 * Each instance the call was not about must be exactly as the model has it: power state, mode,
 * name, metadata, devices. A difference is the call's fault, cited with the call's rule (the
 * cell says what the call changes, and it changes its own instance only).
 */
function checkSiblings(siblings: readonly ModelInstance[], infos: readonly InfoOutcome[], after: string, rule: RuleId, key: string): void {
  for (let i = 0; i < siblings.length; i++) {
    const inst = siblings[i]!;
    const got = infos[i]!;
    if ('err' in got) throw readFailure('P-MODEL-SEQUENCES', 'R-INFO-FRESH', `${after}: getInfo(${inst.uuid}), another instance,`, got.err, key);
    if (inst.node === undefined) inst.node = got.v.node;
    const p = compareInfo(inst, got.v, rule, rule, rule)[0];
    if (p) throw new Violation('P-MODEL-SEQUENCES', p.rule, `${after}: instance ${inst.uuid}, which the call was not about, changed: ${p.message}`, key, p.expected, p.actual, true);
  }
}

/** After a call: getInfo of the instance it touched, the instance list, inventory and lifecycle events. */
export async function observe(ctx: ExecContext, step: Step): Promise<void> {
  const { session, model, disabled } = ctx;
  const driver = session.driver;
  const { call, target, key, expectation: e, mark, failed } = step;
  // A spawn that (rightly) failed: everything observed now is about atomicity.
  const atomic = call.op === 'spawn' && !e.ok;

  const wantInfo = target !== undefined && call.op !== 'getInfo';
  // getInfo must follow the model; for an instance the model does not have, that is
  // R-INFO-UNKNOWN, unless this very call (a destroy) was meant to remove it.
  const judgedByCall = model.get(target ?? '') !== undefined || (call.op === 'destroy' && e.ok && !e.noop);
  const infoProperty = atomic ? 'P-SPAWN-ATOMIC' : judgedByCall ? (call.repeat ? 'P-IDEMPOTENT-REPEAT' : 'P-MODEL-SEQUENCES') : 'P-INFO-UNKNOWN';
  const listProperty = atomic ? 'P-SPAWN-ATOMIC' : 'P-LIST-OWNED';
  const invProperty = atomic ? 'P-SPAWN-ATOMIC' : 'P-INVENTORY';
  // In `changes` mode the list and inventory are read only when the instance set changed
  // (or releases are pending); endOfSequence() reads them all once more.
  const every = ctx.options.observe === 'every-step' || call.op === 'spawn' || call.op === 'destroy' || model.pending.length > 0;
  const checkInfo = wantInfo && !disabled.has(infoProperty);
  const checkList = every && !disabled.has(listProperty);
  const checkInv = every && !disabled.has(invProperty);

  // The instances the call was not about: each must be as the model has it (a call changes its
  // own instance only). Read in `every-step` mode after every call but a getInfo.
  const siblings = ctx.options.observe === 'every-step' && call.op !== 'getInfo' && !disabled.has('P-MODEL-SEQUENCES') ? siblingsOf(ctx, target) : NONE;

  const askedAt = performance.now();
  // The reads run at once; each is awaited only when it was made, and a rejection is an outcome
  // (an invalid output the guard refused is a failed property, not a broken run).
  const infoRead = checkInfo ? driver.getInfo(target!).then(asValue, asError) : undefined;
  const siblingReads = siblings.length === 0 ? undefined : siblings.map((inst) => driver.getInfo(inst.uuid).then(asValue, asError));
  const listRead = checkList ? driver.listInstances().then(asList, asError) : undefined;
  const invRead = checkInv ? driver.getInventory().then(asInventory, asError) : undefined;
  const info = infoRead && (await infoRead);
  const siblingInfos = siblingReads && (await Promise.all(siblingReads));
  const listed = listRead && (await listRead);
  const inventoried = invRead && (await invRead);
  if (checkInfo) session.count('getInfo');
  for (let i = 0; i < siblings.length; i++) session.count('getInfo');
  if (checkList) session.count('listInstances');
  if (checkInv) session.count('getInventory');
  const after = `after ${describeCall(call)}`;
  if (listed && 'err' in listed) throw readFailure(listProperty, 'R-LIST-OWNED', `${after}: listInstances`, listed.err, key);
  if (inventoried && 'err' in inventoried) throw readFailure(invProperty, 'R-INV-USED', `${after}: getInventory`, inventoried.err, key);
  const list = listed?.list;
  const inventory = inventoried?.inventory;

  if (info) {
    const inst = model.get(target!);
    if (!inst) {
      if (!('err' in info) || errorCode(info.err) !== 'INSTANCE_NOT_FOUND') {
        const got = 'err' in info ? `${errorCode(info.err)}: ${errorMessage(info.err)}` : `an instance (${info.v.powerState})`;
        // After a destroy, the list tells a destroy that did nothing (still listed) from a
        // getInfo that reports what does not exist (not listed).
        const lying = judgedByCall && list !== undefined && !list.some((x) => lower(x.uuid) === lower(target!));
        throw new Violation(
          lying ? 'P-INFO-UNKNOWN' : infoProperty,
          atomic ? 'R-SPAWN-ATOMIC' : judgedByCall && !lying ? e.rule : 'R-INFO-UNKNOWN',
          `after ${describeCall(call)}: getInfo(${target}) must raise INSTANCE_NOT_FOUND, got ${got}`,
          lying ? 'getInfo' : key,
          'INSTANCE_NOT_FOUND',
          got,
        );
      }
    } else if ('err' in info) {
      throw new Violation(infoProperty, 'R-INFO-FRESH', `after ${describeCall(call)}: getInfo(${target}) failed with ${errorCode(info.err)}: ${errorMessage(info.err)}`, key);
    } else {
      if (inst.node === undefined) inst.node = info.v.node;
      const stateRule = atomic ? 'R-SPAWN-ATOMIC' : e.rule;
      const metaRule = atomic ? 'R-SPAWN-ATOMIC' : call.op === 'rebuild' ? 'R-REBUILD-KEEPS' : 'R-SPAWN-METADATA';
      // Devices: what spawn or rebuild promise, else the cell of the call (which changes
      // the power state or one device, and nothing else).
      const deviceRule = atomic ? 'R-SPAWN-ATOMIC' : call.op === 'rebuild' ? 'R-REBUILD-KEEPS' : call.op === 'spawn' ? 'R-SPAWN-DEVICES' : e.rule;
      const problems = compareInfo(inst, info.v, stateRule, metaRule, deviceRule);
      if (problems.length > 0) {
        const p = problems[0]!;
        throw new Violation(infoProperty, p.rule, `after ${describeCall(call)}: ${p.message}`, key, p.expected, p.actual);
      }
    }
  }
  if (siblingInfos) checkSiblings(siblings, siblingInfos, after, e.rule, key);
  if (list) {
    const p = compareList(model, list);
    if (p) throw new Violation(listProperty, atomic ? 'R-SPAWN-ATOMIC' : p.rule, `after ${describeCall(call)}: ${p.message}`, key);
  }
  if (inventory) {
    const p = compareInventory(model, ctx.calls, inventory, askedAt);
    if (p) throw new Violation(invProperty, atomic ? 'R-SPAWN-ATOMIC' : p.rule, `after ${describeCall(call)}: ${p.message}`, key);
  }
  if ((call.op === 'snapshot' || call.op === 'deleteSnapshot') && !disabled.has('P-MODEL-SEQUENCES')) await observeSnapshots(ctx, `after ${describeCall(call)}`, key);
  const events = session.events;
  if (events && !disabled.has('P-EVENTS')) {
    refusedEvent(session, after, key);
    if (e.ok && e.event && !failed) {
      const want = e.event;
      const uuid = lower(want.uuid);
      // Slack only beyond a declared delay: a driver declaring 0 delivers before the call returns.
      const declared = session.caps.eventualConsistency.eventDeliveryMs;
      const bound = declared > 0 ? declared + ctx.options.settleTimeoutMs : 0;
      const match = (ev: LifecycleEvent): boolean => ev.powerState === want.powerState && want.kinds.includes(ev.kind) && lower(ev.uuid) === uuid;
      // Delivered already (a driver declaring 0 delivers before the call returns): no wait.
      const found = events.find(mark, match) ?? (bound > 0 ? await events.waitFor(mark, match, bound) : undefined);
      // A transition no call asked for (a simulated crash or lost state) must say so (1.1).
      const outOfBand = isSimulation(call) && supports(session.caps, 'event.out-of-band');
      if (found && outOfBand && found.cause !== 'out-of-band') {
        throw new Violation(
          'P-EVENTS',
          'R-EVENT-OUT-OF-BAND',
          `after ${describeCall(call)}: the ${found.kind} event for ${want.uuid} has cause ${String(found.cause)}, not out-of-band`,
          key,
          'out-of-band',
          found.cause,
        );
      }
      if (found && outOfBand) session.count('outOfBandEvent');
      if (!found) {
        refusedEvent(session, after, key);
        const got = events.events.slice(mark).filter((ev) => lower(ev.uuid) === uuid);
        throw new Violation(
          'P-EVENTS',
          'R-EVENT-TRANSITION',
          `after ${describeCall(call)}: no ${want.kinds.join('/')} event with power state ${want.powerState} for ${want.uuid} within ${bound} ms (got ${show(got.map((g) => `${g.kind}/${g.powerState}`))})`,
          key,
          want,
          got,
        );
      }
    }
    for (; session.strayCursor < events.size; session.strayCursor++) {
      const ev = events.events[session.strayCursor]!;
      if (!session.known.has(lower(ev.uuid))) {
        session.strayCursor++;
        throw new Violation('P-EVENTS', 'R-EVENT-TRANSITION', `after ${describeCall(call)}: an event names ${ev.uuid} (${ev.kind}), an instance this driver does not manage`, key, undefined, ev);
      }
    }
  }
}

/**
 * The observation at the end of a sequence: the snapshot list (every mode), and in `changes`
 * mode, which skipped them after each step, getInfo of every live instance, the list and the
 * inventory.
 */
export async function endOfSequence(ctx: ExecContext): Promise<void> {
  if (ctx.options.observe === 'changes') await fullObservation(ctx);
  if (!ctx.disabled.has('P-MODEL-SEQUENCES')) await observeSnapshots(ctx, 'end of sequence', undefined);
}

async function fullObservation(ctx: ExecContext): Promise<void> {
  const { session, model, disabled } = ctx;
  const driver = session.driver;
  for (const inst of model.instances.values()) {
    if (disabled.has('P-MODEL-SEQUENCES')) break;
    session.count('getInfo');
    let info: InstanceInfo;
    try {
      info = await driver.getInfo(inst.uuid);
    } catch (error) {
      throw new Violation('P-MODEL-SEQUENCES', 'R-INFO-FRESH', `end of sequence: getInfo(${inst.uuid}) failed with ${errorCode(error)}`, undefined);
    }
    const p = compareInfo(inst, info, 'R-INFO-FRESH')[0];
    if (p) throw new Violation('P-MODEL-SEQUENCES', p.rule, `end of sequence: ${p.message}`, undefined, p.expected, p.actual);
  }
  const askedAt = performance.now();
  if (!disabled.has('P-LIST-OWNED')) {
    session.count('listInstances');
    const p = compareList(model, await driver.listInstances());
    if (p) throw new Violation('P-LIST-OWNED', p.rule, `end of sequence: ${p.message}`, undefined);
  }
  if (!disabled.has('P-INVENTORY')) {
    session.count('getInventory');
    const p = compareInventory(model, ctx.calls, await driver.getInventory(), askedAt);
    if (p) throw new Violation('P-INVENTORY', p.rule, `end of sequence: ${p.message}`, undefined);
  }
}

/**
 * After a snapshot or a deleteSnapshot, and at the end of every sequence, when the driver lists
 * its snapshots (contract 1.1): every image this sequence produced and has not deleted is
 * listed, and no deleted one is (R-SNAPSHOT-LIST). Other images (earlier runs, other users) may
 * be there too. `where` names the moment in the violation's message.
 */
async function observeSnapshots(ctx: ExecContext, where: string, key: string | undefined): Promise<void> {
  const { session, model } = ctx;
  if (!supports(session.caps, 'operation.list-snapshots')) return;
  session.count('listSnapshots');
  let listed: Set<string>;
  try {
    listed = new Set((await session.driver.listSnapshots()).map((s) => s.imageId));
  } catch (error) {
    throw new Violation('P-MODEL-SEQUENCES', 'R-SNAPSHOT-LIST', `${where}: listSnapshots failed with ${errorCode(error)}: ${errorMessage(error)}`, 'listSnapshots');
  }
  for (let i = 0; i < ctx.produced.length; i++) {
    const id = ctx.produced[i]!;
    const deleted = model.snapshots[i]?.deleted ?? false;
    if (listed.has(id) === !deleted) continue;
    const message = deleted ? `listSnapshots still reports image ${id}, deleted by deleteSnapshot` : `listSnapshots does not report image ${id}, made by snapshot #${i}`;
    throw new Violation('P-MODEL-SEQUENCES', 'R-SNAPSHOT-LIST', `${where}: ${message}`, key);
  }
}
