import { abortableSleep } from '@nova-common/core';
import { LibvirtError } from '../client/errors.js';
import type { CallOptions as ClientCallOptions } from '../client/connection.js';
import { DomainState, Flags, VirErr, type DomainRef } from '../client/protocol/remote-types.js';
import { isLibvirtCode } from '../mapping/errors.js';
import { isActive, isCrashReason, isRunning } from '../mapping/state.js';
import type { DriverContext } from './context.js';
import type { Loaded } from './instances.js';
import { hardStop } from './teardown.js';

/**
 * The power transitions the operations are made of (power, reboot, suspend/resume, restore):
 * each one a few libvirt calls that end in a state the contract names, whatever libvirt state
 * the domain starts from.
 */

const POLL_MS = 100;
/** Saving or restoring a guest's memory writes or reads all of it: those calls get a longer timeout. */
const SAVE_TIMEOUT_MS = 300_000;

/** The call timeout of a managed save or of a start that may restore one. */
export function saveTimeout(ctx: DriverContext): number {
  return Math.max(ctx.config.callTimeoutMs, SAVE_TIMEOUT_MS);
}

export function callOptions(signal: AbortSignal | undefined, timeoutMs?: number): ClientCallOptions | undefined {
  if (!signal && timeoutMs === undefined) return undefined;
  return { ...(signal ? { signal } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
}

/** ACPI shutdown, then wait until the domain is off; false when the guest did not power off in time. */
export async function acpiShutdown(ctx: DriverContext, ref: DomainRef, timeoutMs: number, signal: AbortSignal | undefined): Promise<boolean> {
  const o = callOptions(signal);
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

/**
 * Start a shut-off domain, running or (`paused`) with its vCPUs stopped. A managed save image
 * is restored, never discarded (only a forced boot would). An image saved from a paused guest
 * restores paused, so a restored domain's state is read and put right; a fresh boot runs.
 * libvirt's test driver has no START_PAUSED: it starts, then pauses.
 */
export async function startDomain(ctx: DriverContext, l: Pick<Loaded, 'ref' | 'managedSave'>, paused: boolean, o?: ClientCallOptions): Promise<void> {
  if (paused && ctx.domainType !== 'test') {
    await ctx.client.create(l.ref, Flags.START_PAUSED, o);
    return;
  }
  await ctx.client.create(l.ref, 0, o);
  if (!paused && !l.managedSave) return;
  const { state } = await ctx.client.getState(l.ref, o);
  if (paused && state !== DomainState.PAUSED) await ctx.client.suspend(l.ref, o);
  if (!paused && state === DomainState.PAUSED) await ctx.client.resume(l.ref, o);
}

/** Wake a guest that put itself to sleep (PMSUSPENDED) and wait until it runs: libvirt returns before it does. */
export async function wake(ctx: DriverContext, ref: DomainRef, signal: AbortSignal | undefined): Promise<void> {
  const o = callOptions(signal);
  await ctx.client.pmWakeup(ref, o);
  for (;;) {
    if ((await ctx.client.getState(ref, o)).state !== DomainState.PMSUSPENDED) return;
    await abortableSleep(POLL_MS, signal);
  }
}

/**
 * A domain libvirt reports crashed (shut off with reason CRASHED or FAILED) made plain shut
 * off. libvirt keeps the reason until the domain starts again and has no call to change it:
 * the domain is started with its vCPUs paused (the guest runs no instruction) and destroyed,
 * which leaves "shut off (destroyed)".
 */
export async function acknowledgeCrash(ctx: DriverContext, ref: DomainRef, o?: ClientCallOptions): Promise<void> {
  await ctx.client.create(ref, ctx.domainType === 'test' ? 0 : Flags.START_PAUSED, o);
  await hardStop(ctx, ref);
}

/**
 * Shut the domain off (the contract's SHUTDOWN): a running guest is asked by ACPI first and
 * forced after `gracefulMs` (0 forces at once); a paused, sleeping or crashed-but-active one is
 * forced at once (it cannot act on ACPI); a crashed one is acknowledged (acknowledgeCrash).
 */
export async function shutOff(ctx: DriverContext, l: Loaded, gracefulMs: number, signal: AbortSignal | undefined): Promise<void> {
  if ((isRunning(l.state) || l.state === DomainState.SHUTDOWN) && gracefulMs > 0) {
    if (await acpiShutdown(ctx, l.ref, gracefulMs, signal)) return;
  }
  if (!isActive(l.state)) {
    if (isCrashReason(l.reason)) await acknowledgeCrash(ctx, l.ref, callOptions(signal));
    return;
  }
  await hardStop(ctx, l.ref);
}
