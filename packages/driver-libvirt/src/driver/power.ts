import type { CallOptions, PowerOffOptions, RebootType } from '@nova-common/core';
import { DomainState } from '../client/protocol/remote-types.js';
import { isActive, isRunning } from '../mapping/state.js';
import type { DriverContext } from './context.js';
import { withInstance } from './instances.js';
import { ensurePlugged } from './plugs.js';
import { hardStop } from './teardown.js';
import { acpiShutdown, callOptions, saveTimeout, shutOff, startDomain, wake } from './transitions.js';

/**
 * Power off: ACPI first for a running guest, forced after gracefulTimeoutMs (the guard always
 * passes it; the configured wait stands in only for a caller without the guard). A paused
 * guest cannot act on ACPI: it is forced at once, whatever gracefulTimeoutMs says. A crashed
 * domain is acknowledged so it reads SHUTDOWN (see acknowledgeCrash).
 */
export async function powerOff(ctx: DriverContext, uuid: string, options?: PowerOffOptions): Promise<void> {
  const graceful = options?.gracefulTimeoutMs ?? ctx.config.acpiShutdownTimeoutMs;
  await withInstance(ctx, 'powerOff', 'powerOff', uuid, options, (l) => shutOff(ctx, l, graceful, options?.signal));
}

/** Power on: start the defined domain (an active crashed or NOSTATE domain is stopped first). */
export async function powerOn(ctx: DriverContext, uuid: string, options?: CallOptions): Promise<void> {
  await withInstance(ctx, 'powerOn', 'powerOn', uuid, options, async (l) => {
    if (isActive(l.state)) await hardStop(ctx, l.ref);
    await ensurePlugged(ctx, 'powerOn', l, options?.signal);
    await startDomain(ctx, l, false, callOptions(options?.signal));
  });
}

/**
 * Reboot. Soft, as Nova does it: ACPI shutdown, wait, start again; a guest that does not shut
 * down in time gets the hard path, and a stopped or crashed one just boots (the table refuses
 * a soft reboot of a paused or suspended guest). The wait ends at once when the call's signal
 * aborts: a hard reboot or a destroy of the instance cancels a soft reboot that hangs.
 * Hard: stop, drop a managed save image (explicitly: the caller asked for a fresh boot), start.
 */
export async function reboot(ctx: DriverContext, uuid: string, type: RebootType, options?: CallOptions): Promise<void> {
  await withInstance(ctx, 'reboot', type === 'SOFT' ? 'rebootSoft' : 'rebootHard', uuid, options, async (l) => {
    const o = callOptions(options?.signal);
    const timeout = ctx.config.softRebootTimeoutMs;
    if (type === 'SOFT' && isRunning(l.state) && timeout > 0 && (await acpiShutdown(ctx, l.ref, timeout, options?.signal))) {
      await ctx.client.create(l.ref, 0, o);
      return;
    }
    await hardStop(ctx, l.ref);
    if (l.managedSave) await ctx.client.managedSaveRemove(l.ref);
    await ctx.client.create(l.ref, 0, o);
  });
}

export async function pause(ctx: DriverContext, uuid: string, options?: CallOptions): Promise<void> {
  await withInstance(ctx, 'pause', 'pause', uuid, options, (l) => ctx.client.suspend(l.ref, callOptions(options?.signal)));
}

export async function unpause(ctx: DriverContext, uuid: string, options?: CallOptions): Promise<void> {
  await withInstance(ctx, 'unpause', 'unpause', uuid, options, (l) => ctx.client.resume(l.ref, callOptions(options?.signal)));
}

/** Suspend: libvirt's managed save (the guest's memory goes to disk, the domain stops). */
export async function suspend(ctx: DriverContext, uuid: string, options?: CallOptions): Promise<void> {
  await withInstance(ctx, 'suspend', 'suspend', uuid, options, (l) => ctx.client.managedSave(l.ref, 0, callOptions(options?.signal, saveTimeout(ctx))));
}

/**
 * Resume: start the defined domain, which restores its managed save image (a fresh create
 * would lose it); a guest that put itself to sleep (PMSUSPENDED) is woken instead.
 */
export async function resume(ctx: DriverContext, uuid: string, options?: CallOptions): Promise<void> {
  await withInstance(ctx, 'resume', 'resume', uuid, options, async (l) => {
    if (l.state === DomainState.PMSUSPENDED) return wake(ctx, l.ref, options?.signal);
    await ensurePlugged(ctx, 'resume', l, options?.signal);
    return startDomain(ctx, l, false, callOptions(options?.signal, saveTimeout(ctx)));
  });
}
