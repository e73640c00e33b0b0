import type { z } from 'zod';
import type { CapabilityId } from '../capabilities/catalog.js';
import type { ErrorCode } from '../errors/codes.js';

/**
 * What the registry (registry.ts) says of each operation: the shape of an entry, apart from
 * the entries themselves.
 */

/**
 * One positional argument of an operation. `role` says what the guard does with it beyond
 * parsing: `instance` is the instance the call is about (canonicalised to lower case and used
 * as the per-instance queue key), `instanceSpec` a spec naming the instance it creates (its
 * uuid is canonicalised and used as the key), `id` another uuid (canonicalised), `image` a
 * snapshot image id (the queue key of deleteSnapshot), `value` anything else.
 */
export interface ArgumentDescriptor {
  readonly name: string;
  readonly schema: z.ZodType;
  readonly role: 'instance' | 'instanceSpec' | 'id' | 'image' | 'value';
  /**
   * Lower-cases the uuids inside a parsed argument (a volume's id in an attachment, a VIF's id),
   * so that a device, like an instance, is one device whatever the case its caller wrote.
   */
  readonly canonicalise?: (parsed: never) => void;
  /** The per-instance queue key a parsed argument names, for arguments that carry the instance inside (a migration request). */
  readonly queueKey?: (parsed: never) => string;
}

/** Every fact about one operation of the contract. Everything else is derived from these. */
export interface OperationDescriptor {
  /** Positional arguments, in call order (the CallOptions bag comes last and is not listed). */
  readonly args: readonly ArgumentDescriptor[];
  /** Fields of the operation's own options beyond `signal` (powerOff's graceful timeout). */
  readonly options: z.ZodObject | null;
  /** The result the driver must return; null for operations that resolve to nothing. */
  readonly result: z.ZodType | null;
  /** The capability that must be declared for the operation to be called. */
  readonly capability: CapabilityId | null;
  /** Mandatory operations have no capability gate beyond the core profile. */
  readonly mandatory: boolean;
  /** Whether a repeated call with the same arguments yields the same result and state. */
  readonly idempotent: boolean;
  /** Default timeout applied by the guard, in milliseconds. */
  readonly defaultTimeoutMs: number;
  /** Errors the operation may raise besides COMMON_ERRORS. Anything else is a contract violation. */
  readonly errors: readonly ErrorCode[];
  /** The columns of the semantics table the operation answers to (reboot: one per type). */
  readonly columns: readonly string[];
  /**
   * Capabilities a column needs besides the operation's own (since 1.1.0): restoring an
   * instance to PAUSED needs pause, to SUSPENDED needs suspend. A call whose column needs a
   * capability the driver declares missing raises UNSUPPORTED, like a call of a missing operation.
   */
  readonly columnCapabilities: Readonly<Record<string, CapabilityId>>;
  /** The contract version that introduced the operation. */
  readonly since: string;
  /**
   * Preemption on one instance (since 1.1.0): a call that `preempts` cancels a `preemptible`
   * call running on the same instance instead of waiting behind it (a hard reboot or a destroy
   * does not wait for a soft reboot that hangs).
   */
  readonly preemption: { readonly preemptible: (args: readonly unknown[]) => boolean; readonly preempts: (args: readonly unknown[]) => boolean } | null;
  /**
   * The end of a migration the operation runs on (since 1.2.0): `source` or `destination`.
   * These operations need a second host of the same kind; a single-host run leaves them out
   * and the two-host suite covers them. Null for every other operation.
   */
  readonly peer: 'source' | 'destination' | null;
  /**
   * Capabilities a call needs besides the operation's own, read from its arguments (since
   * 1.2.0): a LIVE migration needs operation.live-migrate, a resize in place
   * operation.resize-in-place. Null when none.
   */
  readonly argumentCapabilities: ((args: readonly unknown[]) => readonly CapabilityId[]) | null;
}

/** The columnCapabilities of every operation that has none (one object: a cheap test for the guard). */
export const NO_COLUMN_CAPABILITIES: Readonly<Record<string, CapabilityId>> = Object.freeze({});
