import type { LifecycleEventKind, PowerState } from '@nova-common/core';
import { DomainEvent, StoppedDetail } from '../client/protocol/remote-types.js';

/**
 * A libvirt lifecycle event (type, detail) -> the contract's event kind and the power state
 * it reports, following Nova (nova/virt/libvirt/host.py _event_lifecycle_callback).
 * Returns undefined for events with no power transition (DEFINED, UNDEFINED, SHUTDOWN begun).
 * A STOPPED event with detail FAILED is what libvirt sends when a QEMU process dies without
 * being asked (killed, or failing): the domain is then shut off with reason CRASHED or FAILED,
 * which getInfo reports as CRASHED (see state.ts), so the event says CRASHED too.
 */
export function mapLifecycleEvent(event: number, detail: number): { kind: LifecycleEventKind; powerState: PowerState } | undefined {
  switch (event) {
    case DomainEvent.STARTED:
      return { kind: 'STARTED', powerState: 'RUNNING' };
    case DomainEvent.RESUMED:
      return { kind: 'RESUMED', powerState: 'RUNNING' };
    case DomainEvent.SUSPENDED:
      return { kind: 'PAUSED', powerState: 'PAUSED' };
    case DomainEvent.STOPPED:
      if (detail === StoppedDetail.SAVED) return { kind: 'SUSPENDED', powerState: 'SUSPENDED' };
      if (detail === StoppedDetail.CRASHED || detail === StoppedDetail.FAILED) return { kind: 'CRASHED', powerState: 'CRASHED' };
      return { kind: 'STOPPED', powerState: 'SHUTDOWN' };
    case DomainEvent.PMSUSPENDED:
      return { kind: 'SUSPENDED', powerState: 'SUSPENDED' };
    case DomainEvent.CRASHED:
      return { kind: 'CRASHED', powerState: 'CRASHED' };
    default:
      return undefined;
  }
}
