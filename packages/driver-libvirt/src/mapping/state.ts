import type { PowerState, SemanticState } from '@nova-common/core';
import { DomainState, ShutoffReason } from '../client/protocol/remote-types.js';

/**
 * libvirt's domain state (and its reason) -> the contract's power state, as Nova's libvirt
 * driver maps it (nova/virt/libvirt/guest.py LIBVIRT_POWER_STATE), with two additions:
 * - managed save: a shut-off domain with a managed save image is SUSPENDED (only starting the
 *   defined domain restores it);
 * - a shut-off domain whose QEMU process died without being asked (killed, or failing: libvirt's
 *   shut-off reasons CRASHED and FAILED) is CRASHED, the contract's "stopped without being asked".
 *   libvirt keeps the reason until the domain starts again or libvirtd restarts (inactive domains
 *   are then loaded with reason UNKNOWN, and report SHUTDOWN).
 * A guest that put itself to sleep (PMSUSPENDED) is SUSPENDED: resume wakes it.
 */
export function powerStateOf(state: number, hasManagedSave: boolean, reason = 0): PowerState {
  switch (state) {
    case DomainState.RUNNING:
    case DomainState.BLOCKED:
    case DomainState.SHUTDOWN: // shutting down: still running until it is off
      return 'RUNNING';
    case DomainState.PAUSED:
      return 'PAUSED';
    case DomainState.SHUTOFF:
      if (hasManagedSave) return 'SUSPENDED';
      return isCrashReason(reason) ? 'CRASHED' : 'SHUTDOWN';
    case DomainState.CRASHED:
      return 'CRASHED';
    case DomainState.PMSUSPENDED:
      return 'SUSPENDED';
    default:
      return 'NOSTATE';
  }
}

/** A shut-off reason that means the machine stopped without being asked. */
export function isCrashReason(reason: number): boolean {
  return reason === ShutoffReason.CRASHED || reason === ShutoffReason.FAILED;
}

/** The row of the semantics table an instance is in. */
export function semanticStateOf(power: PowerState, mode: 'normal' | 'rescue'): Exclude<SemanticState, 'ABSENT'> {
  if (mode === 'rescue' && power === 'RUNNING') return 'RESCUE';
  return power;
}

export function isActive(state: number): boolean {
  return state !== DomainState.SHUTOFF && state !== DomainState.NOSTATE;
}

/** Running in the guest's sense: its vCPUs run, so ACPI can reach it. */
export function isRunning(state: number): boolean {
  return state === DomainState.RUNNING || state === DomainState.BLOCKED;
}
