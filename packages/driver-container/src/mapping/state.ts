import type { PowerState } from './contract-types.js';
import type { ContainerState } from '../client/types.js';

/**
 * Exit codes that say a container's init ended because it was asked to: 0 (the guest halted by itself)
 * and 128 + SIGTERM = 143 (the stop signal every stop sends first, from the driver, an operator's
 * `docker stop` or the engine stopping its containers on shutdown). Any other end (killed by SIGKILL or
 * another signal, an error exit code, an OOM kill) is a crash, unless the driver asked that run to stop.
 */
export const CLEAN_EXIT_CODES: ReadonlySet<number> = new Set([0, 143]);

/**
 * How a run of a container that ended reads: SHUTDOWN when the driver asked that run to stop (its own
 * stop, forced or not, or its acknowledgement of a crash: see driver/stop-records.ts), else CRASHED for an
 * OOM kill or an unclean exit code, else SHUTDOWN.
 */
export function exitPower(exit: { exitCode: number; oomKilled: boolean; stopRequested: boolean }): 'SHUTDOWN' | 'CRASHED' {
  if (exit.stopRequested) return 'SHUTDOWN';
  if (exit.oomKilled) return 'CRASHED';
  return CLEAN_EXIT_CODES.has(exit.exitCode) ? 'SHUTDOWN' : 'CRASHED';
}

/**
 * Whether the driver's record of the stops it asked for can change how this state reads: an ended run
 * that would read CRASHED, or a replacement container that carries a crash (`carriedCrash`).
 */
export function needsStopRecord(s: ContainerState, carriedCrash = false): boolean {
  if (s.Status === 'created') return carriedCrash;
  return s.Status === 'dead' || ((s.Status === 'exited' || s.Status === 'stopped') && exitPower({ exitCode: s.ExitCode, oomKilled: s.OOMKilled, stopRequested: false }) === 'CRASHED');
}

/**
 * Engine container state -> contract power state.
 *
 *   running, restarting      -> RUNNING
 *   stopping (podman)        -> RUNNING: a stop in progress reads as the state the instance is still in
 *   paused                   -> PAUSED (cgroup freezer)
 *   created (never started)  -> SHUTDOWN; CRASHED for the replacement of a CRASHED instance (`carriedCrash`:
 *                               attaching a volume recreates the container, and the crash stays until
 *                               the instance is powered off or on), SHUTDOWN again once asked to stop
 *   exited, stopped (podman) -> exitPower (podman reads `stopped` between the init's end and its cleanup): SHUTDOWN after a clean exit (0, 143) or a stop the driver asked
 *                               for; CRASHED after an OOM kill, a SIGKILL or an error exit nobody asked for
 *   dead                     -> CRASHED (the engine failed to remove or stop it), SHUTDOWN when asked
 *   removing, anything else  -> NOSTATE
 *
 * `stopRequested`: the driver asked this run (this StartedAt) of the container to stop. Labels cannot
 * change on a container, so the driver keeps that record itself (driver/stop-records.ts).
 * `carriedCrash`: the container's crash label (labels.ts), set when it replaced a CRASHED container.
 */
export function powerStateOf(s: ContainerState, stopRequested = false, carriedCrash = false): PowerState {
  switch (s.Status) {
    case 'running':
      return s.Paused ? 'PAUSED' : 'RUNNING';
    case 'restarting':
    case 'stopping':
      return 'RUNNING';
    case 'paused':
      return 'PAUSED';
    case 'created':
      return carriedCrash && !stopRequested ? 'CRASHED' : 'SHUTDOWN';
    case 'exited':
    case 'stopped':
      return exitPower({ exitCode: s.ExitCode, oomKilled: s.OOMKilled, stopRequested });
    case 'dead':
      return stopRequested ? 'SHUTDOWN' : 'CRASHED';
    default:
      return 'NOSTATE';
  }
}
