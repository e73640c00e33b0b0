import { resolveOptions, type ConformanceOptions, type DriverFactory } from '../config.js';
import { HOST_PROPERTY_ID, propertyDefinition, type PropertyDefinition } from '../properties/catalog.js';
import { HostDescriptionError } from './open-error.js';
import { planProperties } from './plan.js';
import { Session } from './session.js';

/**
 * The properties that apply to a driver, read from the driver itself: create it, read its
 * capabilities, and release it (vitest's `describeConformance` does this while it collects
 * the suite, so every applicable property becomes its own test). A driver whose initHost or
 * capability declaration the contract refuses gets one property, P-HOST-DESCRIPTION, which
 * the run then fails with its rule and counterexample: a contract violation, not a broken
 * collection. A driver that cannot be reached at all still throws.
 */
export async function plannedDefinitions(factory: DriverFactory, options: ConformanceOptions = {}): Promise<PropertyDefinition[]> {
  const resolved = resolveOptions({ ...options, runs: 1, steps: 1 });
  let session: Session;
  try {
    session = await Session.open(factory, resolved);
  } catch (error) {
    if (error instanceof HostDescriptionError) return [propertyDefinition(HOST_PROPERTY_ID)!];
    throw error;
  }
  try {
    return planProperties(session.caps, resolved)
      .filter((p) => p.skip === undefined)
      .map((p) => p.def);
  } finally {
    await session.close();
  }
}
