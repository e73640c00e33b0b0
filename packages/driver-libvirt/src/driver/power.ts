import { abortableSleep, type CallOptions, type PowerOffOptions, type RebootType } from '@nova-common/core';
import { LibvirtError } from '../client/errors.js';
import { DomainState, VirErr, type DomainRef } from '../client/protocol/remote-types.js';
import { isLibvirtCode } from '../mapping/errors.js';
import { isActive } from '../mapping/state.js';
import type { DriverContext } from './context.js';
import { withInstance } from './instances.js';
import { hardStop } from './teardown.js';

const POLL_MS = 100;
/** Suspend and resume write or read the guest's whole memory: they get a longer call timeout. */
const SAVE_TIMEOUT_MS = 300_000;

function signalOf(options: CallOptions | undefined): { signal: AbortSignal } | undefined {
  return options?.signal ? { signal: options.signal } : undefined;
}

/** Running in the guest's sense: ACPI can reach it. */
function isRunning(state: number): boolean {
  return state === DomainState.RUNNING || state === DomainState.BLOCKED;
}

/** ACPI shutdown, then wait until the domain is off; false when the guest did not power off in time. */
async function acpiShutdown(ctx: DriverContext, ref: DomainRef, timeoutMs: number, signal: AbortSignal | undefined): Promise<boolean> {
  const o = signal ? { signal } : undefined;
  try {
    await ctx.client.shutdown(ref, 0, o);
  } catch (err) {
    if (err instanceof LibvirtError && !isLibvirtCode(err, VirErr.NO_DOMAIN)) return false;
    throw err;
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const st = await ctx.client.getState(ref, o);
    if (!isActive(st.state)) return true;
    if (Date.now() >= deadline) return false;
    await abortableSleep(POLL_MS, signal);
  }
}

/** Power off: ACPI first (gracefulTimeoutMs, else the configured wait), forced when the guest does not comply. */
export async function powerOff(ctx: DriverContext, uuid: string, options?: PowerOffOptions): Promise<void> {
  const graceful = options?.gracefulTimeoutMs ?? ctx.config.acpiShutdownTimeoutMs;
  await withInstance(ctx, 'powerOff', 'powerOff', uuid, options, async (l) => {
    if (isRunning(l.state) || l.state === DomainState.SHUTDOWN) {
      if (graceful > 0 && (await acpiShutdown(ctx, l.ref, graceful, options?.signal))) return;
    }
    await hardStop(ctx, l.ref);
  });
}

/** Power on: start the defined domain (leftover CRASHED/NOSTATE domains are stopped first). */
export async function powerOn(ctx: DriverContext, uuid: string, options?: CallOptions): Promise<void> {
  await withInstance(ctx, 'powerOn', 'powerOn', uuid, options, async (l) => {
    if (isActive(l.state)) await hardStop(ctx, l.ref);
    await ctx.client.create(l.ref, 0, signalOf(options));
  });
}

/**
 * Reboot. Soft, as Nova does it: ACPI shutdown, wait, start again; a guest that does not shut
 * down in time (or a paused or stopped one) gets the hard path. Hard: stop, drop a managed
 * save image (it would be restored instead of a fresh boot), start.
 */
export async function reboot(ctx: DriverContext, uuid: string, type: RebootType, options?: CallOptions): Promise<void> {
  await withInstance(ctx, 'reboot', type === 'SOFT' ? 'rebootSoft' : 'rebootHard', uuid, options, async (l) => {
    const timeout = ctx.config.softRebootTimeoutMs;
    if (type === 'SOFT' && isRunning(l.state) && timeout > 0 && (await acpiShutdown(ctx, l.ref, timeout, options?.signal))) {
      await ctx.client.create(l.ref, 0, signalOf(options));
      return;
    }
    await hardStop(ctx, l.ref);
    if (l.managedSave) await ctx.client.managedSaveRemove(l.ref);
    await ctx.client.create(l.ref, 0, signalOf(options));
  });
}

export async function pause(ctx: DriverContext, uuid: string, options?: CallOptions): Promise<void> {
  await withInstance(ctx, 'pause', 'pause', uuid, options, (l) => ctx.client.suspend(l.ref, signalOf(options)));
}

export async function unpause(ctx: DriverContext, uuid: string, options?: CallOptions): Promise<void> {
  await withInstance(ctx, 'unpause', 'unpause', uuid, options, (l) => ctx.client.resume(l.ref, signalOf(options)));
}

/** Suspend: libvirt's managed save (the guest's memory goes to disk, the domain stops). */
export async function suspend(ctx: DriverContext, uuid: string, options?: CallOptions): Promise<void> {
  const timeoutMs = Math.max(ctx.config.callTimeoutMs, SAVE_TIMEOUT_MS);
  await withInstance(ctx, 'suspend', 'suspend', uuid, options, (l) => ctx.client.managedSave(l.ref, 0, { ...signalOf(options), timeoutMs }));
}

/** Resume: start the defined domain, which restores its managed save image (a fresh create would lose it). */
export async function resume(ctx: DriverContext, uuid: string, options?: CallOptions): Promise<void> {
  const timeoutMs = Math.max(ctx.config.callTimeoutMs, SAVE_TIMEOUT_MS);
  await withInstance(ctx, 'resume', 'resume', uuid, options, async (l) => {
    await ctx.client.create(l.ref, 0, { ...signalOf(options), timeoutMs });
  });
}
