import type { ServerUnaryCall } from '@grpc/grpc-js';
import { DriverError, type GuardedDriver } from '@nova-common/core';
import type { Logger } from 'pino';
import type { EventLog } from './event-log.js';
import type { Journal } from './journal.js';
import type { AgentMetrics } from './metrics.js';
import { certificateName, permits, rolesOfCertificate, type Role, type RpcName } from './roles.js';

/** What every kind of server call offers (grpc-js does not export its own name for it). */
export type SurfaceCall = Pick<ServerUnaryCall<unknown, unknown>, 'getDeadline' | 'getAuthContext' | 'getPeer' | 'once' | 'removeListener'>;

/** Who answers: reported by GetCapabilities. */
export interface AgentIdentity {
  readonly driverName: string;
  readonly driverVersion: string;
  /** The contract range of the driver's manifest (what it is held to: R-BASELINE). */
  readonly driverContract: string;
  readonly agentVersion: string;
  readonly contractVersion: string;
}

/** The calls being served, so a shutdown can cancel those still running after its grace period. */
export class InFlight {
  private readonly controllers = new Set<AbortController>();

  get size(): number {
    return this.controllers.size;
  }

  add(controller: AbortController): () => void {
    this.controllers.add(controller);
    return () => this.controllers.delete(controller);
  }

  /** Abort every call still running with CANCELLED (the drivers are told to stop). */
  cancelAll(detail: string): void {
    for (const c of this.controllers) c.abort(new DriverError('CANCELLED', { detail }));
  }
}

/** What every handler shares. */
export interface ServiceContext {
  readonly driver: GuardedDriver;
  readonly journal: Journal;
  /** Undefined when the driver has no lifecycle events. */
  readonly events: EventLog | undefined;
  readonly metrics: AgentMetrics;
  readonly log: Logger;
  readonly inFlight: InFlight;
  readonly identity: AgentIdentity;
}

/** What a listener knows of its callers. */
export interface ListenerPolicy {
  /** The listener's address, for the logs. */
  readonly listener: string;
  /** The role every caller of this listener holds at most. */
  readonly role: Role;
  /** TLS listeners also require the role in the caller's certificate. */
  readonly tls: boolean;
}

/** A caller as the wall sees it. */
export interface Caller {
  readonly name: string;
  readonly roles: ReadonlySet<Role>;
  /** Whether the caller may call `rpc`: its certificate (TLS) and its listener must both allow it. */
  may(rpc: RpcName): boolean;
}

const ROLE_SETS = new Map<Role, ReadonlySet<Role>>();
function single(role: Role): ReadonlySet<Role> {
  let set = ROLE_SETS.get(role);
  if (set === undefined) ROLE_SETS.set(role, (set = new Set([role])));
  return set;
}

const LISTENER_CALLERS = new WeakMap<ListenerPolicy, Caller>();

/** The caller of `call` on a listener with `policy` (one shared object per plaintext listener). */
export function callerOf(call: SurfaceCall, policy: ListenerPolicy): Caller {
  const listenerRoles = single(policy.role);
  if (!policy.tls) {
    let caller = LISTENER_CALLERS.get(policy);
    if (caller === undefined) {
      caller = { name: `${policy.listener} (${policy.role})`, roles: listenerRoles, may: (rpc) => permits(listenerRoles, rpc) };
      LISTENER_CALLERS.set(policy, caller);
    }
    return caller;
  }
  const cert = call.getAuthContext().sslPeerCertificate;
  const roles = rolesOfCertificate(cert);
  return {
    name: `${certificateName(cert) ?? 'unnamed certificate'} at ${call.getPeer()}`,
    roles,
    may: (rpc) => permits(roles, rpc) && permits(listenerRoles, rpc),
  };
}

/**
 * The call's AbortSignal: aborted with TIMEOUT when the caller's deadline passes and with
 * CANCELLED when the caller cancels (grpc-js reports both as 'cancelled'), and CANCELLED by a
 * shutdown past its grace period. Returns the signal and the function that ends the scope.
 */
export function callScope(call: SurfaceCall, op: string, inFlight: InFlight): { signal: AbortSignal; end: () => void } {
  const controller = new AbortController();
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  const onCancelled = () => {
    const timedOut = Number.isFinite(deadlineMs) && Date.now() >= deadlineMs - 1;
    controller.abort(
      timedOut ? new DriverError('TIMEOUT', { op, detail: "the caller's deadline passed" }) : new DriverError('CANCELLED', { op, detail: 'the caller cancelled the call' }),
    );
  };
  call.once('cancelled', onCancelled);
  const forget = inFlight.add(controller);
  return {
    signal: controller.signal,
    end: () => {
      forget();
      call.removeListener('cancelled', onCancelled);
    },
  };
}
