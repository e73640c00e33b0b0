import { OPERATION_NAMES, type ComputeDriver, type LifecycleListener, type OperationName } from '@nova-common/core';
import { createReferenceDriver, type ReferenceDriver, type ReferenceDriverConfig } from '@nova-common/core/testing';
import type { ConformanceOptions, PropertyId } from '../../src/index.js';

/**
 * A deliberately wrong driver: the reference driver with one plausible bug planted. The
 * conformance suite's default run must catch each one.
 */
export interface Mutant {
  /** Kebab-case id, the file name. */
  id: string;
  /** The bug, in one sentence. */
  bug: string;
  /** Properties any of which may report it. */
  caughtBy: PropertyId[];
  /** Creates the wrong driver (unconnected). */
  create: () => ComputeDriver;
  /** Options the run needs to see the bug (a backend witness, a shorter timeout), beyond the default run. */
  options?: Pick<ConformanceOptions, 'witness' | 'restart' | 'guard'>;
}

type Overrides = Partial<Record<OperationName | 'subscribeEvents', (...args: any[]) => any>>;

/**
 * A driver that delegates every operation to a fresh reference driver (`inner`) except the
 * overridden ones. The overrides receive `inner` to build their bug on.
 */
export function mutate(config: ReferenceDriverConfig, overrides: (inner: ReferenceDriver) => Overrides): ComputeDriver {
  const inner = createReferenceDriver(config);
  const o = overrides(inner);
  const driver: Record<string, unknown> = {};
  for (const m of OPERATION_NAMES) {
    const own = o[m];
    driver[m] = own ?? ((...args: unknown[]) => (inner[m] as (...a: unknown[]) => unknown).apply(inner, args));
  }
  driver.subscribeEvents = o.subscribeEvents ?? ((l: LifecycleListener) => inner.subscribeEvents(l));
  return driver as unknown as ComputeDriver;
}
