import type { ErrorCode } from '../errors/codes.js';
import type { Flavor } from '../schemas/flavor.js';
import type { SemanticsTable } from './table.js';
import { tableInForce } from './table-in-force.js';
import type { RuleId } from './rules.js';
import type { SemanticState, TableOperation } from './states.js';

/** What the caller knows beyond the state, for the cells that depend on it. */
export interface OutcomeContext {
  /** spawn: the spec's powerOn flag (false leads to SHUTDOWN). */
  powerOn?: boolean;
  /** attachVolume/detachVolume/extendVolume: whether the volume is attached now. */
  volumeAttached?: boolean;
  /** attachInterface/detachInterface: whether the interface is attached now. */
  interfaceAttached?: boolean;
}

export type Outcome =
  | { ok: true; to: SemanticState; noop: boolean; rule: RuleId }
  | { ok: false; error: ErrorCode; rule: RuleId };

/**
 * The expected outcome of `op` in `state`. Checks apply in a fixed order: the state first
 * (INSTANCE_NOT_FOUND, INVALID_STATE, INSTANCE_EXISTS), then device preconditions
 * (VOLUME_ALREADY_ATTACHED, VOLUME_NOT_ATTACHED, INTERFACE_ALREADY_ATTACHED,
 * INTERFACE_NOT_ATTACHED). UNSUPPORTED and INVALID_INPUT come before any of these and are
 * decided by capabilities and schemas, not by the table. `table` is the one the driver is held
 * to (semanticsFor its baseline); by default the table in force: inside a guarded call of a
 * driver built against an older contract, that contract's table, else the current one.
 */
export function expectedOutcome(state: SemanticState, op: TableOperation, ctx: OutcomeContext = {}, table: SemanticsTable = tableInForce()): Outcome {
  const cell = table[state][op];
  if (cell.kind === 'error') return { ok: false, error: cell.error, rule: cell.rule };
  if (op === 'spawn' && ctx.powerOn === false) return { ok: true, to: 'SHUTDOWN', noop: false, rule: 'R-SPAWN-ABSENT' };
  switch (op) {
    case 'attachVolume':
      if (ctx.volumeAttached) return { ok: false, error: 'VOLUME_ALREADY_ATTACHED', rule: 'R-DEV-VOLUME-ATTACHED' };
      break;
    case 'detachVolume':
    case 'extendVolume':
      if (ctx.volumeAttached === false) return { ok: false, error: 'VOLUME_NOT_ATTACHED', rule: 'R-DEV-VOLUME-NOT-ATTACHED' };
      break;
    case 'attachInterface':
      if (ctx.interfaceAttached) return { ok: false, error: 'INTERFACE_ALREADY_ATTACHED', rule: 'R-DEV-INTERFACE-ATTACHED' };
      break;
    case 'detachInterface':
      if (ctx.interfaceAttached === false) return { ok: false, error: 'INTERFACE_NOT_ATTACHED', rule: 'R-DEV-INTERFACE-NOT-ATTACHED' };
      break;
    default:
      break;
  }
  return { ok: true, to: cell.to, noop: cell.noop, rule: cell.rule };
}

/**
 * Resources one instance of `flavor` consumes, as Placement counts them: VCPU, MEMORY_MB and
 * DISK_GB (root + ephemeral + swap rounded up to GiB), each overridden by an extra spec
 * `resources:<CLASS>=<N>`, which also adds custom classes. Zero amounts are left out.
 */
export function expectedUsage(flavor: Flavor): Record<string, number> {
  const usage: Record<string, number> = {
    VCPU: flavor.vcpus,
    MEMORY_MB: flavor.memoryMb,
    DISK_GB: flavor.rootGb + flavor.ephemeralGb + Math.ceil(flavor.swapMb / 1024),
  };
  for (const [key, value] of Object.entries(flavor.extraSpecs)) {
    const m = /^resources:([A-Z][A-Z0-9_]*)$/.exec(key);
    if (!m) continue;
    const n = Number.parseInt(value, 10);
    if (Number.isFinite(n) && n >= 0 && String(n) === value.trim()) usage[m[1]!] = n;
  }
  for (const key of Object.keys(usage)) if (usage[key] === 0) delete usage[key];
  return usage;
}

/** The traits a flavor requires (`trait:<NAME>=required` extra specs, as Placement reads them), sorted. */
export function requiredTraits(flavor: Flavor): string[] {
  return Object.entries(flavor.extraSpecs)
    .filter(([k, v]) => k.startsWith('trait:') && v === 'required')
    .map(([k]) => k.slice('trait:'.length))
    .sort();
}

/** Which lifecycle event kinds report a transition into `to` (any of them is acceptable). */
export function eventKindsFor(to: SemanticState): readonly string[] {
  switch (to) {
    case 'RUNNING':
    case 'RESCUE':
      return ['STARTED', 'RESUMED'];
    case 'SHUTDOWN':
      return ['STOPPED'];
    case 'PAUSED':
      return ['PAUSED'];
    case 'SUSPENDED':
      return ['SUSPENDED'];
    case 'CRASHED':
      return ['CRASHED'];
    default:
      return [];
  }
}
