import type { LifecycleEventKind, PowerState } from '@nova-common/core';
import type { EngineEvent } from '../client/types.js';

/**
 * Engine container events -> lifecycle events:
 *
 *   start    -> STARTED  RUNNING
 *   unpause  -> RESUMED  RUNNING
 *   pause    -> PAUSED   PAUSED
 *   die      -> STOPPED  SHUTDOWN, or CRASHED CRASHED after an oom event for that container
 *
 * Anything else (oom itself included) maps to nothing.
 */
export function mapEngineEvent(e: EngineEvent, oomSeen: boolean): { kind: LifecycleEventKind; power: PowerState } | undefined {
  switch (e.Action) {
    case 'start':
      return { kind: 'STARTED', power: 'RUNNING' };
    case 'unpause':
      return { kind: 'RESUMED', power: 'RUNNING' };
    case 'pause':
      return { kind: 'PAUSED', power: 'PAUSED' };
    case 'die':
    case 'died': // podman's own name, should its compat layer pass it through
      return oomSeen ? { kind: 'CRASHED', power: 'CRASHED' } : { kind: 'STOPPED', power: 'SHUTDOWN' };
    default:
      return undefined;
  }
}

/** The `since` query value of an event stream: seconds.nanoseconds since the epoch. */
export function sinceOf(nanos: number): string {
  const sec = Math.floor(nanos / 1e9);
  return `${sec}.${String(Math.floor(nanos - sec * 1e9)).padStart(9, '0')}`;
}
