import { columnOfCall, type CallOptions, type RestorableState } from '@nova-common/core';
import { DomainState, Flags } from '../client/protocol/remote-types.js';
import { isActive, isRunning } from '../mapping/state.js';
import type { DriverContext } from './context.js';
import { withInstance, type Loaded } from './instances.js';
import { ensurePlugged } from './plugs.js';
import { hardStop } from './teardown.js';
import { callOptions, saveTimeout, shutOff, startDomain, wake } from './transitions.js';

/**
 * restoreState: bring the instance to what its caller last asked for, from whatever libvirt
 * shows after libvirtd or the host restarted (libvirt does not autostart domains: after a host
 * restart a domain that ran is shut off, or crashed when libvirtd saw its QEMU gone). The
 * table's restoreState<Desired> column decides what is allowed; a managed save image is only
 * ever restored (SUSPENDED -> SHUTDOWN is refused by the table), never discarded or invented.
 */
export async function restoreState(ctx: DriverContext, uuid: string, desired: RestorableState, options?: CallOptions): Promise<void> {
  const column = columnOfCall('restoreState', [uuid, desired])!;
  await withInstance(ctx, 'restoreState', column, uuid, options, (l) => bringTo(ctx, l, desired, options?.signal));
}

async function bringTo(ctx: DriverContext, l: Loaded, desired: RestorableState, signal: AbortSignal | undefined): Promise<void> {
  const o = callOptions(signal, saveTimeout(ctx));
  switch (desired) {
    case 'RUNNING':
      if (l.state === DomainState.PAUSED) return ctx.client.resume(l.ref, o);
      if (l.state === DomainState.PMSUSPENDED) return wake(ctx, l.ref, signal);
      // Crashed-but-active or NOSTATE: stop what is left, then start.
      if (isActive(l.state)) await hardStop(ctx, l.ref);
      await ensurePlugged(ctx, 'restoreState', l, signal);
      return startDomain(ctx, l, false, o);
    case 'PAUSED':
      if (l.state === DomainState.PMSUSPENDED) await wake(ctx, l.ref, signal);
      if (isRunning(l.state) || l.state === DomainState.PMSUSPENDED || l.state === DomainState.SHUTDOWN) return ctx.client.suspend(l.ref, o);
      if (isActive(l.state)) await hardStop(ctx, l.ref);
      await ensurePlugged(ctx, 'restoreState', l, signal);
      return startDomain(ctx, l, true, o);
    case 'SHUTDOWN':
      // A guest running when its caller wants it off gets the same graceful wait as power off.
      return shutOff(ctx, l, ctx.config.acpiShutdownTimeoutMs, signal);
    case 'SUSPENDED':
      // From RUNNING or PAUSED (the table allows no other): a managed save that resumes running.
      return ctx.client.managedSave(l.ref, l.state === DomainState.PAUSED ? Flags.SAVE_RUNNING : 0, o);
  }
}
