import { ERROR_CODES, isErrorCode, powerStateOf, type HostInventory, type InstanceInfo, type InstanceSummary, type RuleId } from '@nova-common/core';
import type { SequencedCall } from '../commands/call.js';
import type { Model, ModelInstance } from '../model/model.js';
import { show } from './violation.js';

/**
 * What the driver reports, compared with the model: getInfo of one instance, the instance
 * list, inventory usage. Each check is written for the common case (everything matches) to
 * cost little; messages are built only for a difference.
 */

interface Problem {
  rule: RuleId;
  message: string;
}

interface InfoProblem extends Problem {
  expected: unknown;
  actual: unknown;
}

const lower = (s: string): string => s.toLowerCase();
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** Metadata maps strings to strings: a key `b` lacks reads as undefined or an inherited non-string, never equal. */
function sameMetadata(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) if (a[k] !== b[k] || typeof b[k] !== 'string') return false;
  return true;
}

/** The ids of the devices getInfo reports, in its order. */
type Device = { readonly volumeId: string } | { readonly id: string };
const idOf = (d: Device): string => ('volumeId' in d ? d.volumeId : d.id);

/** Whether the devices are listed by id in ascending order (what getInfo must do). */
function sortedById(devices: readonly Device[]): boolean {
  for (let i = 1; i < devices.length; i++) if (idOf(devices[i - 1]!) > idOf(devices[i]!)) return false;
  return true;
}

/**
 * Whether the reported ids are exactly the model's (letter case aside): the fast path for ids
 * listed in strictly ascending order, else a sorted comparison.
 */
function sameIds(reported: readonly Device[], model: ReadonlyMap<string, unknown>): boolean {
  if (reported.length !== model.size) return false;
  let ascending = true;
  for (let i = 0; i < reported.length; i++) {
    const id = idOf(reported[i]!);
    if (!model.has(lower(id))) return false;
    if (i > 0 && !(idOf(reported[i - 1]!) < id)) ascending = false;
  }
  if (ascending) return true;
  const want = [...model.keys()].sort();
  return reported.map((d) => lower(idOf(d))).sort().every((v, i) => v === want[i]);
}

/**
 * Compare what getInfo reported with the model's instance. `stateRule` is cited for the
 * power state and mode, `metaRule` for name and metadata, `deviceRule` for volumes and
 * interfaces.
 */
export function compareInfo(inst: ModelInstance, info: InstanceInfo, stateRule: RuleId, metaRule: RuleId = 'R-SPAWN-METADATA', deviceRule: RuleId = 'R-INFO-FRESH'): InfoProblem[] {
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
  if (!sameIds(info.volumes, inst.volumes)) {
    const vols = info.volumes.map((v) => lower(v.volumeId));
    const want = [...inst.volumes.keys()].sort();
    problems.push({ rule: deviceRule, message: `getInfo reports volumes ${show(vols)}, expected ${show(want)}`, expected: want, actual: vols });
  } else {
    for (const v of info.volumes) {
      const size = inst.volumes.get(lower(v.volumeId));
      if (size !== undefined && v.sizeGb !== size) {
        problems.push({ rule: deviceRule, message: `getInfo reports volume ${v.volumeId} of ${String(v.sizeGb)} GiB, expected ${size} GiB`, expected: size, actual: v.sizeGb });
      }
    }
  }
  if (!sameIds(info.interfaces, inst.interfaces)) {
    const ifs = info.interfaces.map((i) => lower(i.id));
    const want = [...inst.interfaces.keys()].sort();
    problems.push({ rule: deviceRule, message: `getInfo reports interfaces ${show(ifs)}, expected ${show(want)}`, expected: want, actual: ifs });
  } else {
    for (const i of info.interfaces) {
      const mac = inst.interfaces.get(lower(i.id));
      if (mac !== undefined && lower(i.address) !== mac) {
        problems.push({ rule: deviceRule, message: `getInfo reports interface ${i.id} with address ${i.address}, expected ${mac}`, expected: mac, actual: i.address });
      }
    }
  }
  if (!sortedById(info.volumes) || !sortedById(info.interfaces)) {
    problems.push({
      rule: 'R-INFO-FRESH',
      message: 'getInfo must report volumes and interfaces sorted by id',
      expected: 'sorted',
      actual: { volumes: info.volumes.map((v) => lower(v.volumeId)), interfaces: info.interfaces.map((i) => lower(i.id)) },
    });
  }
  return problems;
}

/** What the suite expects of an error's fields beyond its code. */
export interface ErrorFields {
  /** For UNSUPPORTED: the capability it must name (the operation's, or its column's). */
  capability?: string | undefined;
  /** For INVALID_INPUT: a field its `issues` must name (the last element of a path). */
  field?: string | undefined;
  /** The rule cited when `field` is not named. */
  rule?: RuleId;
}

/**
 * The fields of an error a caller acts on, as the caller gets it (after the guard): `retryable`
 * as the error catalogue gives it for the code (R-GEN-ERRORS: a caller retrying an INVALID_STATE
 * loops, one not retrying a CONFLICT gives up), the capability an UNSUPPORTED names
 * (R-GEN-UNSUPPORTED: the caller learns what is missing), the field an INVALID_INPUT names.
 */
export function errorFieldsProblem(error: unknown, want: ErrorFields): InfoProblem | undefined {
  const e = error as { code?: unknown; retryable?: unknown; capability?: unknown; issues?: { path?: unknown }[] };
  if (typeof e !== 'object' || e === null || !isErrorCode(e.code)) return undefined;
  const retryable = ERROR_CODES[e.code].retryable;
  if (e.retryable !== retryable) {
    return { rule: 'R-GEN-ERRORS', message: `${e.code} is raised with retryable ${show(e.retryable)}; the error catalogue says ${retryable}`, expected: retryable, actual: e.retryable };
  }
  if (e.code === 'UNSUPPORTED' && want.capability !== undefined && e.capability !== want.capability) {
    return { rule: 'R-GEN-UNSUPPORTED', message: `UNSUPPORTED names capability ${show(e.capability)}, not ${want.capability}`, expected: want.capability, actual: e.capability };
  }
  if (e.code === 'INVALID_INPUT' && want.field !== undefined) {
    const paths = Array.isArray(e.issues) ? e.issues.map((i) => (Array.isArray(i?.path) ? (i.path as unknown[]) : [])) : [];
    if (!paths.some((path) => path.at(-1) === want.field)) {
      return { rule: want.rule ?? 'R-GEN-ORDER', message: `INVALID_INPUT does not name the field ${want.field} in its issues (got ${show(paths)})`, expected: want.field, actual: paths };
    }
  }
  return undefined;
}

/** Sum `used` per resource class over every node. */
export function usedOf(inventory: HostInventory): Record<string, number> {
  const used: Record<string, number> = {};
  for (const node of inventory.nodes) {
    const resources = node.resources;
    for (const cls of Object.keys(resources)) used[cls] = (used[cls] ?? 0) + resources[cls]!.used;
  }
  return used;
}

/** Compare listed instances with the model: exactly the preexisting ones plus the live ones, names and metadata unchanged. */
export function compareList(model: Model, list: readonly InstanceSummary[]): Problem | undefined {
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
  if (seen.size === model.instances.size + model.preexisting.size) return undefined;
  for (const inst of model.instances.values()) {
    if (!seen.has(lower(inst.uuid))) return { rule: 'R-LIST-OWNED', message: `listInstances does not report ${inst.uuid} (${inst.state}), which exists` };
  }
  for (const [id, s] of model.preexisting) {
    if (!seen.has(id)) return { rule: 'R-DESTROY-OWNED', message: `instance ${s.uuid}, present before the run, is no longer listed` };
  }
  return undefined;
}

/**
 * Check inventory usage against the model's bounds, taken at `askedAt` (before the inventory
 * call). `calls` are the sequence's calls so far: after a destroy, usage above the bound is a
 * release that did not happen.
 */
export function compareInventory(model: Model, calls: readonly SequencedCall[], inventory: HostInventory, askedAt: number): Problem | undefined {
  const { low, high } = model.usedBounds(askedAt);
  const used = usedOf(inventory);
  for (const cls of Object.keys(low)) {
    const p = usageProblem(cls, used[cls] ?? 0, low[cls] ?? 0, high[cls] ?? 0, calls);
    if (p) return p;
  }
  for (const cls of Object.keys(used)) {
    if (hasOwn(low, cls)) continue;
    const p = usageProblem(cls, used[cls] ?? 0, 0, high[cls] ?? 0, calls);
    if (p) return p;
  }
  return undefined;
}

/** One resource class's usage against its bounds. */
function usageProblem(cls: string, u: number, lo: number, hi: number, calls: readonly SequencedCall[]): Problem | undefined {
  if (u < lo) return { rule: 'R-INV-USED', message: `inventory ${cls} used is ${u}, expected ${lo} (baseline plus the live instances)` };
  if (u <= hi) return undefined;
  const released = calls.some((c) => c.op === 'destroy');
  return {
    rule: released ? 'R-INV-RELEASE' : 'R-INV-USED',
    message: `inventory ${cls} used is ${u}, expected ${lo === hi ? lo : `${lo}..${hi}`}${released ? ' (resources of destroyed instances must be released within resourceReleaseMs)' : ''}`,
  };
}
