import type { PowerState, SemanticState } from '@nova-common/core';
import { DomainState } from '../client/protocol/remote-types.js';

/**
 * libvirt's domain state -> the contract's power state, as Nova's libvirt driver maps it
 * (nova/virt/libvirt/guest.py LIBVIRT_POWER_STATE), plus managed save: a shut-off domain
 * with a managed save image is SUSPENDED (only starting the defined domain restores it).
 */
export function powerStateOf(state: number, hasManagedSave: boolean): PowerState {
  switch (state) {
    case DomainState.RUNNING:
    case DomainState.BLOCKED:
    case DomainState.SHUTDOWN: // shutting down: still running until it is off
      return 'RUNNING';
    case DomainState.PAUSED:
      return 'PAUSED';
    case DomainState.SHUTOFF:
      return hasManagedSave ? 'SUSPENDED' : 'SHUTDOWN';
    case DomainState.CRASHED:
      return 'CRASHED';
    case DomainState.PMSUSPENDED:
      return 'SUSPENDED';
    default:
      return 'NOSTATE';
  }
}

/** The row of the semantics table an instance is in. */
export function semanticStateOf(power: PowerState, mode: 'normal' | 'rescue'): Exclude<SemanticState, 'ABSENT'> {
  if (mode === 'rescue' && power === 'RUNNING') return 'RESCUE';
  return power;
}

export function isActive(state: number): boolean {
  return state !== DomainState.SHUTOFF && state !== DomainState.NOSTATE;
}
