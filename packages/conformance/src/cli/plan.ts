import {
  CAPABILITY_CATALOG,
  CAPABILITY_IDS,
  supports,
  type CapabilityId,
  type DriverCapabilities,
  type ProfileId,
} from '@nova-common/core';
import { FAULT_PROPERTY_IDS, MODEL_PROPERTY_IDS, allProperties, type PropertyDefinition } from '../properties/catalog.js';

/** One property of a planned run: what it would exercise, or why it would be skipped. */
export interface PlannedProperty {
  definition: PropertyDefinition;
  run: boolean;
  /** The capabilities its runs would exercise (empty when skipped). */
  capabilities: CapabilityId[];
  /** Why skipped, when skipped. */
  reason?: string;
}

export interface PlanOptions {
  profiles?: ProfileId[] | undefined;
  only?: string[] | undefined;
}

const profileOf = (id: CapabilityId): ProfileId => CAPABILITY_CATALOG[id].profile;

/**
 * Which properties a run would check for a driver declaring `caps`, and which it would skip
 * and why, following the rules the suite applies: the model properties exercise every
 * declared capability of the selected profiles (core is always selected); P-EVENTS needs
 * event.lifecycle; each capability declared missing gets its P-UNSUPPORTED property; a
 * capability declared supported is exercised by the sequences instead.
 */
export function planRun(caps: DriverCapabilities, options: PlanOptions = {}): PlannedProperty[] {
  const selected = (id: CapabilityId): boolean =>
    options.profiles === undefined || profileOf(id) === 'core' || options.profiles.includes(profileOf(id));
  const exercised = CAPABILITY_IDS.filter((id) => supports(caps, id) && selected(id));
  const modelIds: readonly string[] = MODEL_PROPERTY_IDS;
  const faultIds: readonly string[] = FAULT_PROPERTY_IDS;

  return allProperties().map((definition): PlannedProperty => {
    const skip = (reason: string): PlannedProperty => ({ definition, run: false, capabilities: [], reason });
    if (options.only !== undefined && !options.only.includes(definition.id)) return skip('not selected by --only');
    const unsupported = /^P-UNSUPPORTED-(.+)$/.exec(definition.id)?.[1] as CapabilityId | undefined;
    if (unsupported !== undefined) {
      if (!selected(unsupported)) return skip(`profile ${profileOf(unsupported)} filtered out`);
      if (supports(caps, unsupported)) {
        return skip(`${unsupported} is declared ${caps.capabilities[unsupported]?.level}: P-MODEL-SEQUENCES exercises it instead`);
      }
      return { definition, run: true, capabilities: [unsupported] };
    }
    if (definition.id === 'P-EVENTS') {
      if (!selected('event.lifecycle')) return skip('profile lifecycle filtered out');
      if (!supports(caps, 'event.lifecycle')) return skip('event.lifecycle is declared missing');
      return { definition, run: true, capabilities: ['event.lifecycle'] };
    }
    if (modelIds.includes(definition.id) || faultIds.includes(definition.id)) {
      return { definition, run: true, capabilities: exercised };
    }
    return { definition, run: true, capabilities: exercised };
  });
}
