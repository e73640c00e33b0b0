import type { LifecycleEventKind, SemanticState, TableOperation } from '@nova-common/core';

/**
 * The lifecycle event kinds the driver's own actions for one table column can make libvirtd
 * send (a QEMU start is RESUMED then STARTED; a managed save may pause the vCPUs first; a
 * reboot is a stop and a start). Events of these kinds that arrive while such a call runs
 * (and those announcing where it ended, just after: see RequestedTransitions) are
 * `requested`; every other event is `out-of-band`.
 * CRASHED is in no list: no call of this driver asks for a crash.
 */
const KINDS = {
  spawn: ['STARTED', 'RESUMED', 'STOPPED'],
  destroy: ['STOPPED'],
  getInfo: [],
  powerOff: ['STOPPED'],
  powerOn: ['STARTED', 'RESUMED'],
  rebootSoft: ['STOPPED', 'STARTED', 'RESUMED'],
  rebootHard: ['STOPPED', 'STARTED', 'RESUMED'],
  pause: ['PAUSED'],
  unpause: ['RESUMED'],
  suspend: ['SUSPENDED', 'PAUSED'],
  resume: ['STARTED', 'RESUMED', 'PAUSED'],
  rescue: ['STOPPED', 'STARTED', 'RESUMED'],
  unrescue: ['STOPPED', 'STARTED', 'RESUMED'],
  rebuild: ['STOPPED', 'STARTED', 'RESUMED'],
  snapshot: ['PAUSED', 'RESUMED'],
  attachVolume: [],
  detachVolume: [],
  extendVolume: [],
  attachInterface: [],
  detachInterface: [],
  getConsoleOutput: [],
  restoreStateRunning: ['STARTED', 'RESUMED', 'PAUSED', 'STOPPED'],
  restoreStateShutdown: ['STOPPED'],
  restoreStatePaused: ['STARTED', 'RESUMED', 'PAUSED', 'STOPPED'],
  restoreStateSuspended: ['SUSPENDED', 'PAUSED'],
} as const satisfies Record<TableOperation, readonly LifecycleEventKind[]>;

/**
 * From some states the action takes a detour: a crashed domain is started paused and
 * destroyed to read "shut off" again (power off, restore to SHUTDOWN), and an active crashed
 * or NOSTATE domain is stopped before it starts (power on).
 */
const DETOURS: Partial<Record<TableOperation, Partial<Record<SemanticState, readonly LifecycleEventKind[]>>>> = {
  powerOff: { CRASHED: ['STARTED', 'RESUMED', 'PAUSED'] },
  restoreStateShutdown: { CRASHED: ['STARTED', 'RESUMED', 'PAUSED'] },
  powerOn: { CRASHED: ['STOPPED'], NOSTATE: ['STOPPED'] },
};

/** The event kinds a call for `column` on an instance in `from` may cause. */
export function requestedKinds(column: TableOperation, from: SemanticState): readonly LifecycleEventKind[] {
  const extra = DETOURS[column]?.[from];
  return extra ? [...KINDS[column], ...extra] : KINDS[column];
}

/**
 * The event kinds that announce arrival in `to`: what may still reach this side just after a
 * call that ended there (see RequestedTransitions). Passing states (a reboot's stop, a
 * rollback's destroy) are announced while the call runs.
 */
export function arrivalKinds(to: SemanticState): readonly LifecycleEventKind[] {
  switch (to) {
    case 'RUNNING':
    case 'RESCUE':
      return ['STARTED', 'RESUMED'];
    case 'PAUSED':
      return ['PAUSED'];
    case 'SHUTDOWN':
    case 'ABSENT':
      return ['STOPPED'];
    case 'SUSPENDED':
      return ['SUSPENDED'];
    default:
      return [];
  }
}
