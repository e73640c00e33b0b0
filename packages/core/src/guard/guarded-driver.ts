import type { ComputeDriver, LifecycleListener, Unsubscribe } from '../driver/compute-driver.js';
import type { ArgInputs, OperationName, OptionsOf, ResultOf } from '../operations/registry.js';

/** A tuple whose trailing elements that accept `undefined` become optional (rescue's spec). */
type TrailingOptional<T extends readonly unknown[]> = T extends readonly [...infer Head, infer Last]
  ? undefined extends Last
    ? [...TrailingOptional<Head>, Last?]
    : [...Head, Last]
  : [];

/** The parameters of a guarded operation: the schemas' input types, then the options bag. */
export type GuardedParameters<K extends OperationName> = [...TrailingOptional<ArgInputs<K>>, options?: OptionsOf<K>];

/** Every operation of the registry as a guarded method. */
export type GuardedOperations = { readonly [K in OperationName]: (...args: GuardedParameters<K>) => Promise<ResultOf<K>> };

/**
 * A driver behind the wall: the same operations as ComputeDriver, all present (missing
 * optional ones reject with UNSUPPORTED), taking the schemas' input types (defaults are
 * applied), rejecting only with DriverError codes the operation may raise. Derived from the
 * operation registry: a new registry entry is a new method here.
 */
export interface GuardedDriver extends GuardedOperations {
  /** The unguarded driver, for diagnostics and test hooks; consumers should not call it. */
  readonly raw: ComputeDriver;
  /** Any operation by name, with its arguments as an array (what generic callers use). */
  call<K extends OperationName>(op: K, args: readonly unknown[], options?: OptionsOf<K>): Promise<ResultOf<K>>;
  /** Throws UNSUPPORTED synchronously when the driver has no lifecycle events. */
  subscribeEvents(listener: LifecycleListener): Unsubscribe;
}
