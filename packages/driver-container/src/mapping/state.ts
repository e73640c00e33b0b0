import type { PowerState } from './contract-types.js';
import type { ContainerState } from '../client/types.js';

/**
 * Engine container state -> contract power state.
 *
 *   running, restarting      -> RUNNING
 *   paused                   -> PAUSED (cgroup freezer)
 *   created (never started)  -> SHUTDOWN
 *   exited                   -> SHUTDOWN, or CRASHED when the kernel OOM-killed it
 *   dead                     -> CRASHED (the engine failed to remove or stop it)
 *   removing, anything else  -> NOSTATE
 *
 * An exit with a non-zero code is SHUTDOWN, not CRASHED: an image's init exiting is the
 * guest halting, and the engine cannot tell it from a stop (labels are immutable, so the
 * driver cannot record who stopped it). OOM kills and dead containers are what the engine
 * itself reports as failures.
 */
export function powerStateOf(s: ContainerState): PowerState {
  switch (s.Status) {
    case 'running':
      return s.Paused ? 'PAUSED' : 'RUNNING';
    case 'restarting':
      return 'RUNNING';
    case 'paused':
      return 'PAUSED';
    case 'created':
      return 'SHUTDOWN';
    case 'exited':
      return s.OOMKilled ? 'CRASHED' : 'SHUTDOWN';
    case 'dead':
      return 'CRASHED';
    default:
      return 'NOSTATE';
  }
}
