import { CAPABILITY_IDS, CONTRACT_VERSION, OPERATIONS, compareVersions, supports, type CapabilityId, type DriverCapabilities, type OperationName } from '@nova-common/core';
import type { ResolvedOptions } from '../config.js';
import { allProperties, CONCURRENCY_PROPERTY_IDS, HOST_PROPERTY_ID, MIGRATION_PROPERTY_IDS, type MigrationPropertyId, type PropertyDefinition, type PropertyId } from '../properties/catalog.js';
import { migrationCapabilities } from '../migration/run.js';
import { concurrencyCapabilities } from '../properties/concurrency.js';
import { faultPair } from '../properties/faults.js';
import { allowedCapabilities } from './scope.js';

/** The capability an operation needs (the mandatory ones always have one). */
const capabilityOf = (op: OperationName): CapabilityId => OPERATIONS[op].capability!;

/** Capabilities exercised by the model sequences: the declared ones (within the profile filter). */
function modelCapabilities(caps: DriverCapabilities, allowed: Set<CapabilityId> | undefined): CapabilityId[] {
  return CAPABILITY_IDS.filter((c) => supports(caps, c) && (allowed === undefined || allowed.has(c)));
}

export interface PlannedProperty {
  def: PropertyDefinition;
  capabilities: CapabilityId[];
  /** Why it will not run, when it will not. */
  skip?: string;
}

/**
 * Which properties apply to a driver with these capabilities and options, without running
 * anything (the CLI's `list`). A property introduced after the driver's contract baseline
 * (default: the current contract) is skipped: the driver does not claim it (R-BASELINE).
 */
export function planProperties(
  caps: DriverCapabilities,
  options: Pick<ResolvedOptions, 'profiles' | 'only'> & Partial<Pick<ResolvedOptions, 'contractBaseline' | 'restart' | 'witness' | 'peer'>>,
): PlannedProperty[] {
  const allowed = allowedCapabilities(options.profiles);
  const modelCaps = modelCapabilities(caps, allowed);
  const baseline = options.contractBaseline ?? CONTRACT_VERSION;
  const out: PlannedProperty[] = [];
  for (const def of allProperties()) {
    let capabilities: CapabilityId[] = [];
    let skip: string | undefined;
    const m = /^P-UNSUPPORTED-(.+)$/.exec(def.id);
    if (def.id === HOST_PROPERTY_ID) {
      capabilities = [capabilityOf('listInstances')];
    } else if (m) {
      const cap = m[1] as CapabilityId;
      capabilities = [cap];
      if (supports(caps, cap)) skip = `${cap} is declared ${caps.capabilities[cap]?.level}`;
      else if (allowed && !allowed.has(cap)) skip = `${cap} is outside the selected profiles`;
    } else if (def.id === 'P-EVENTS') {
      capabilities = ['event.lifecycle'];
      if (!supports(caps, 'event.lifecycle')) skip = 'event.lifecycle is not declared';
      else if (allowed && !allowed.has('event.lifecycle')) skip = 'event.lifecycle is outside the selected profiles';
    } else if (def.id === 'P-MODEL-SEQUENCES' || def.id === 'P-IDEMPOTENT-REPEAT') {
      capabilities = modelCaps.filter((c) => c !== 'event.lifecycle');
    } else if (def.id === 'P-INFO-UNKNOWN' || def.id === 'P-LIST-OWNED') {
      capabilities = [...new Set([capabilityOf('getInfo'), capabilityOf('listInstances')])];
    } else if (def.id === 'P-INVENTORY' || def.id === 'P-TEARDOWN-CLEAN') {
      capabilities = [capabilityOf('spawn'), capabilityOf('destroy')];
    } else if (def.id === 'P-RESTART') {
      capabilities = [...new Set([capabilityOf('spawn'), capabilityOf('getInfo'), capabilityOf('listInstances')])];
      if (options.restart !== true) skip = 'needs a driver factory, and a witness or restart: true (a driver whose host is its own memory cannot restart)';
    } else if (def.id === 'P-BACKEND-WITNESS') {
      capabilities = [capabilityOf('spawn'), capabilityOf('destroy')];
      if (options.witness === undefined) skip = "no witness given (the driver's conformance fixtures offer none)";
    } else if (def.id === 'P-SPAWN-ATOMIC' || def.id === 'P-SPAWN-ATOMIC-FAULT') {
      capabilities = [capabilityOf('spawn')];
    } else if ((CONCURRENCY_PROPERTY_IDS as readonly PropertyId[]).includes(def.id)) {
      capabilities = concurrencyCapabilities(caps, options);
    } else if (def.id === 'P-CANCEL') {
      capabilities = [...new Set([capabilityOf('spawn'), capabilityOf('destroy'), ...(supports(caps, capabilityOf('powerOff')) ? [capabilityOf('powerOff')] : [])])];
    } else if ((MIGRATION_PROPERTY_IDS as readonly PropertyId[]).includes(def.id)) {
      capabilities = migrationCapabilities(def.id as MigrationPropertyId, caps);
      const need = capabilities.find((c) => !supports(caps, c));
      if (need !== undefined) skip = `${need} is not declared`;
      else if (options.peer === undefined) skip = 'no second host of this driver kind given (peer, --peer-config)';
    } else if (def.id === 'P-ERRORS-SURFACE') {
      const [op, inverse] = faultPair(caps, allowed);
      capabilities = [...new Set([op, ...(inverse === undefined ? [] : [inverse])].map(capabilityOf))];
    }
    // What the driver's contract predates it does not claim, whatever it declares (R-BASELINE).
    if (compareVersions(def.since, baseline) > 0) {
      skip = `introduced in contract ${def.since}; the driver's contract (baseline ${baseline}) predates it (R-BASELINE)`;
    }
    if (options.only && !options.only.includes(def.id)) skip ??= 'not selected (only)';
    out.push({ def, capabilities, ...(skip !== undefined ? { skip } : {}) });
  }
  return out;
}

