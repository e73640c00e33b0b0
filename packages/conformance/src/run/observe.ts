import { powerStateOf, type HostInventory, type InstanceInfo, type InstanceSummary } from '@nova-common/core';
import { describeCall, targetOf, type SequencedCall } from '../commands/call.js';
import type { Expectation, ModelInstance } from '../model/model.js';
import type { ExecContext } from './executor.js';
import { commandKey } from './executor.js';
import { errorCode, errorMessage } from './session.js';
import { Violation, show } from './violation.js';

export interface InfoProblem {
  rule: string;
  message: string;
  expected: unknown;
  actual: unknown;
}

const lower = (s: string): string => s.toLowerCase();

function sameMetadata(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.prototype.hasOwnProperty.call(b, k) || a[k] !== b[k]) return false;
  return true;
}

function sortedById(ids: readonly string[]): boolean {
  for (let i = 1; i < ids.length; i++) if (ids[i - 1]! > ids[i]!) return false;
  return true;
}

/**
 * Compare what getInfo reported with the model's instance. `stateRule` is cited for the
 * power state and mode, `metaRule` for name and metadata, `deviceRule` for volumes and
 * interfaces.
 */
export function compareInfo(
  inst: ModelInstance,
  info: InstanceInfo,
  stateRule: string,
  metaRule = 'R-SPAWN-METADATA',
  deviceRule = 'R-INFO-FRESH',
): InfoProblem[] {
  const problems: InfoProblem[] = [];
  const power = powerStateOf(inst.state);
  const mode = inst.state === 'RESCUE' ? 'rescue' : 'normal';
  if (info.powerState !== power || info.mode !== mode) {
    problems.push({
      rule: stateRule,
      message: `getInfo reports ${info.powerState}/${info.mode}, the model says ${power}/${mode} (${inst.state})`,
      expected: { powerState: power, mode },
      actual: { powerState: info.powerState, mode: info.mode },
    });
  }
  if (info.name !== inst.name) {
    problems.push({ rule: metaRule, message: `getInfo reports name ${show(info.name)}, spawned as ${show(inst.name)}`, expected: inst.name, actual: info.name });
  }
  if (!sameMetadata(info.metadata, inst.metadata)) {
    problems.push({ rule: metaRule, message: `getInfo reports metadata ${show(info.metadata)}, expected ${show(inst.metadata)}`, expected: inst.metadata, actual: info.metadata });
  }
  const vols = info.volumes.map((v) => lower(v.volumeId));
  const wantVols = [...inst.volumes.keys()].sort();
  if (vols.length !== wantVols.length || [...vols].sort().some((v, i) => v !== wantVols[i])) {
    problems.push({ rule: deviceRule, message: `getInfo reports volumes ${show(vols)}, expected ${show(wantVols)}`, expected: wantVols, actual: vols });
  } else {
    for (const v of info.volumes) {
      const size = inst.volumes.get(lower(v.volumeId));
      if (size !== undefined && v.sizeGb !== size) {
        problems.push({ rule: deviceRule, message: `getInfo reports volume ${v.volumeId} of ${String(v.sizeGb)} GiB, expected ${size} GiB`, expected: size, actual: v.sizeGb });
      }
    }
  }
  const ifs = info.interfaces.map((i) => lower(i.id));
  const wantIfs = [...inst.interfaces.keys()].sort();
  if (ifs.length !== wantIfs.length || [...ifs].sort().some((v, i) => v !== wantIfs[i])) {
    problems.push({ rule: deviceRule, message: `getInfo reports interfaces ${show(ifs)}, expected ${show(wantIfs)}`, expected: wantIfs, actual: ifs });
  } else {
    for (const i of info.interfaces) {
      const mac = inst.interfaces.get(lower(i.id));
      if (mac !== undefined && lower(i.address) !== mac) {
        problems.push({ rule: deviceRule, message: `getInfo reports interface ${i.id} with address ${i.address}, expected ${mac}`, expected: mac, actual: i.address });
      }
    }
  }
  if (!sortedById(info.volumes.map((v) => v.volumeId)) || !sortedById(info.interfaces.map((i) => i.id))) {
    problems.push({ rule: 'R-INFO-FRESH', message: 'getInfo must report volumes and interfaces sorted by id', expected: 'sorted', actual: { volumes: vols, interfaces: ifs } });
  }
  return problems;
}

/** Sum `used` per resource class over every node. */
export function usedOf(inventory: HostInventory): Record<string, number> {
  const used: Record<string, number> = {};
  for (const node of inventory.nodes) for (const [cls, r] of Object.entries(node.resources)) used[cls] = (used[cls] ?? 0) + r.used;
  return used;
}

/** Compare listed instances with the model: exactly the preexisting ones plus the live ones, names and metadata unchanged. */
export function compareList(ctx: ExecContext, list: InstanceSummary[]): { rule: string; message: string } | undefined {
  const { model } = ctx;
  const seen = new Set<string>();
  for (const s of list) {
    const id = lower(s.uuid);
    if (seen.has(id)) return { rule: 'R-LIST-OWNED', message: `listInstances reports ${s.uuid} twice` };
    seen.add(id);
    const inst = model.get(id);
    if (inst) {
      if (s.name !== inst.name || !sameMetadata(s.metadata, inst.metadata)) {
        return { rule: 'R-SPAWN-METADATA', message: `listInstances reports ${s.uuid} as ${show({ name: s.name, metadata: s.metadata })}, expected ${show({ name: inst.name, metadata: inst.metadata })}` };
      }
      continue;
    }
    const before = model.preexisting.get(id);
    if (!before) return { rule: 'R-LIST-OWNED', message: `listInstances reports ${s.uuid} (${show(s.name)}), which the model does not have (not created by this driver, or destroyed)` };
    if (s.name !== before.name || !sameMetadata(s.metadata, before.metadata)) {
      return { rule: 'R-DESTROY-OWNED', message: `instance ${s.uuid}, present before the run, changed: ${show(s)}` };
    }
  }
  for (const inst of model.instances.values()) {
    if (!seen.has(lower(inst.uuid))) return { rule: 'R-LIST-OWNED', message: `listInstances does not report ${inst.uuid} (${inst.state}), which exists` };
  }
  for (const [id, s] of model.preexisting) {
    if (!seen.has(id)) return { rule: 'R-DESTROY-OWNED', message: `instance ${s.uuid}, present before the run, is no longer listed` };
  }
  return undefined;
}

/** Check inventory usage against the model's bounds, taken at `askedAt` (before the inventory call). */
export function compareInventory(ctx: ExecContext, inventory: HostInventory, askedAt: number): { rule: string; message: string } | undefined {
  const { low, high } = ctx.model.usedBounds(askedAt);
  const used = usedOf(inventory);
  for (const cls of new Set([...Object.keys(low), ...Object.keys(used)])) {
    const u = used[cls] ?? 0;
    const lo = low[cls] ?? 0;
    const hi = high[cls] ?? 0;
    if (u < lo) return { rule: 'R-INV-USED', message: `inventory ${cls} used is ${u}, expected ${lo} (baseline plus the live instances)` };
    if (u > hi) {
      const released = ctx.calls.some((c) => c.op === 'destroy');
      return {
        rule: released ? 'R-INV-RELEASE' : 'R-INV-USED',
        message: `inventory ${cls} used is ${u}, expected ${lo === hi ? lo : `${lo}..${hi}`}${released ? ' (resources of destroyed instances must be released within resourceReleaseMs)' : ''}`,
      };
    }
  }
  return undefined;
}

/** After a call: getInfo of the instance it touched, the instance list, inventory and lifecycle events. */
export async function observe(ctx: ExecContext, call: SequencedCall, e: Expectation, mark: number, failed: boolean): Promise<void> {
  const { session, model, disabled } = ctx;
  const driver = session.driver;
  const key = commandKey(call);
  // Built only when a message needs it: most steps pass.
  const what = { toString: () => describeCall(call) };
  // A spawn that (rightly) failed: everything observed now is about atomicity.
  const atomic = call.op === 'spawn' && !e.ok;
  const target = targetOf(call);

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

  const askedAt = performance.now();
  const [info, list, inventory] = await Promise.all([
    checkInfo ? driver.getInfo(target!).then((v) => ({ v }), (err: unknown) => ({ err })) : undefined,
    checkList ? driver.listInstances() : undefined,
    checkInv ? driver.getInventory() : undefined,
  ]);
  if (checkInfo) session.count('getInfo');
  if (checkList) session.count('listInstances');
  if (checkInv) session.count('getInventory');

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
          `after ${what}: getInfo(${target}) must raise INSTANCE_NOT_FOUND, got ${got}`,
          lying ? 'getInfo' : key,
          'INSTANCE_NOT_FOUND',
          got,
        );
      }
    } else if ('err' in info) {
      throw new Violation(infoProperty, 'R-INFO-FRESH', `after ${what}: getInfo(${target}) failed with ${errorCode(info.err)}: ${errorMessage(info.err)}`, key);
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
        throw new Violation(infoProperty, p.rule, `after ${what}: ${p.message}`, key, p.expected, p.actual);
      }
    }
  }
  if (list) {
    const p = compareList(ctx, list);
    if (p) throw new Violation(listProperty, atomic ? 'R-SPAWN-ATOMIC' : p.rule, `after ${what}: ${p.message}`, key);
  }
  if (inventory) {
    const p = compareInventory(ctx, inventory, askedAt);
    if (p) throw new Violation(invProperty, atomic ? 'R-SPAWN-ATOMIC' : p.rule, `after ${what}: ${p.message}`, key);
  }
  const events = session.events;
  if (events && !disabled.has('P-EVENTS')) {
    if (e.ok && e.event && !failed) {
      const want = e.event;
      const uuid = lower(want.uuid);
      // Slack only beyond a declared delay: a driver declaring 0 delivers before the call returns.
      const declared = session.caps.eventualConsistency.eventDeliveryMs;
      const bound = declared > 0 ? declared + ctx.options.settleTimeoutMs : 0;
      const found = await events.waitFor(mark, (ev) => lower(ev.uuid) === uuid && want.kinds.includes(ev.kind) && ev.powerState === want.powerState, bound);
      if (!found) {
        const got = events.events.slice(mark).filter((ev) => lower(ev.uuid) === uuid);
        throw new Violation(
          'P-EVENTS',
          'R-EVENT-TRANSITION',
          `after ${what}: no ${want.kinds.join('/')} event with power state ${want.powerState} for ${want.uuid} within ${bound} ms (got ${show(got.map((g) => `${g.kind}/${g.powerState}`))})`,
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
        throw new Violation('P-EVENTS', 'R-EVENT-TRANSITION', `after ${what}: an event names ${ev.uuid} (${ev.kind}), an instance this driver does not manage`, key, undefined, ev);
      }
    }
  }
}

/**
 * The full observation at the end of a sequence (in `changes` mode): getInfo of every live
 * instance, the list and the inventory.
 */
export async function endOfSequence(ctx: ExecContext): Promise<void> {
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
    const p = compareList(ctx, await driver.listInstances());
    if (p) throw new Violation('P-LIST-OWNED', p.rule, `end of sequence: ${p.message}`, undefined);
  }
  if (!disabled.has('P-INVENTORY')) {
    session.count('getInventory');
    const p = compareInventory(ctx, await driver.getInventory(), askedAt);
    if (p) throw new Violation('P-INVENTORY', p.rule, `end of sequence: ${p.message}`, undefined);
  }
}
