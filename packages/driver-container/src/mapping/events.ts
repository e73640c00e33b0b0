import type { LifecycleEventKind, PowerState } from '@nova-common/core';
import type { EngineEvent } from '../client/types.js';
import { exitPower } from './state.js';

/**
 * Engine container events -> lifecycle events:
 *
 *   start    -> STARTED  RUNNING
 *   unpause  -> RESUMED  RUNNING
 *   pause    -> PAUSED   PAUSED
 *   die      -> as getInfo reads the run that ended (mapping/state.ts exitPower): STOPPED SHUTDOWN when a
 *               call of the driver stopped it (`requested`) or it exited cleanly (code 0 or 143), CRASHED
 *               CRASHED after an oom event for that container or any other exit code (a SIGKILL nobody
 *               asked for is 137). The exit code is the event's `exitCode` attribute (both engines set it).
 *
 * Anything else (oom itself included) maps to nothing.
 */
export function mapEngineEvent(
  e: EngineEvent,
  reading: { oomSeen: boolean; requested: boolean },
): { kind: LifecycleEventKind; power: PowerState } | undefined {
  switch (e.Action) {
    case 'start':
      return { kind: 'STARTED', power: 'RUNNING' };
    case 'unpause':
      return { kind: 'RESUMED', power: 'RUNNING' };
    case 'pause':
      return { kind: 'PAUSED', power: 'PAUSED' };
    case 'die':
    case 'died': {
      // podman's own name, should its compat layer pass it through
      const power = exitPower({ exitCode: exitCodeOf(e), oomKilled: reading.oomSeen, stopRequested: reading.requested });
      return power === 'CRASHED' ? { kind: 'CRASHED', power } : { kind: 'STOPPED', power };
    }
    default:
      return undefined;
  }
}

/** The exit code a die event carries (dockerd `exitCode`, podman both `exitCode` and `containerExitCode`); 0 when absent. */
function exitCodeOf(e: EngineEvent): number {
  const raw = e.Actor.Attributes['exitCode'] ?? e.Actor.Attributes['containerExitCode'];
  const n = raw === undefined ? 0 : Number(raw);
  return Number.isInteger(n) ? n : 0;
}

/** The `since` query value of an event stream: seconds.nanoseconds since the epoch. */
export function sinceOf(nanos: number): string {
  const sec = Math.floor(nanos / 1e9);
  return `${sec}.${String(Math.floor(nanos - sec * 1e9)).padStart(9, '0')}`;
}
