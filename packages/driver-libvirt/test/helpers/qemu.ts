import { randomUUID } from 'node:crypto';
import type { GuardedDriver, InstanceSpecInput, LifecycleEvent } from '@nova-common/core';
import { GUEST_IMAGE_ID } from '../../src/fixtures/conformance-fixtures.js';
import { INITRD, KERNEL, SOCKET, waitUntil } from './backend.js';

/** Helpers for tests on real QEMU guests (the tiny guest of scripts/guest/build.sh). */

/** A driver configuration for real guests; `kernelArgs` can ask the guest to sleep or power off by itself. */
export function qemuConfig(namePrefix: string, over: Record<string, unknown> = {}) {
  return { uri: 'qemu:///system', socketPath: SOCKET, kernel: KERNEL, initrd: INITRD, namePrefix, ...over };
}

export function guestSpec(over: Partial<InstanceSpecInput> = {}): InstanceSpecInput {
  return {
    uuid: randomUUID(),
    name: 'guest',
    flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 128, rootGb: 1 },
    image: { id: GUEST_IMAGE_ID, diskFormat: 'raw', containerFormat: 'bare' },
    ...over,
  };
}

/** The guest's serial console once it shows `marker`. */
export function waitConsole(driver: GuardedDriver, uuid: string, marker: RegExp, timeoutMs = 90_000): Promise<string> {
  return waitUntil(
    `console marker ${marker}`,
    async () => {
      const out = (await driver.getConsoleOutput(uuid)).output;
      return marker.test(out) ? out : undefined;
    },
    timeoutMs,
    250,
  );
}

/** How many times the guest's kernel booted (the console log is appended across boots). */
export async function boots(driver: GuardedDriver, uuid: string): Promise<number> {
  return (await driver.getConsoleOutput(uuid)).output.match(/NOVA-GUEST: BOOTED/g)?.length ?? 0;
}

/** Spawn a guest and wait until its userspace is up. */
export async function bootedGuest(driver: GuardedDriver, over: Partial<InstanceSpecInput> = {}): Promise<string> {
  const s = guestSpec(over);
  await driver.spawn(s);
  await waitConsole(driver, s.uuid, /NOVA-GUEST: READY/);
  return s.uuid;
}

/** An event collector: the first event of the instance after `from` matching `kind`. */
export class EventLog {
  readonly all: LifecycleEvent[] = [];
  readonly listener = (e: LifecycleEvent): void => void this.all.push(e);

  count(uuid: string): number {
    return this.all.filter((e) => e.uuid === uuid).length;
  }

  next(uuid: string, from: number, kind: LifecycleEvent['kind'], timeoutMs: number): Promise<LifecycleEvent> {
    return waitUntil(`a ${kind} event of ${uuid}`, async () => this.all.filter((e) => e.uuid === uuid).slice(from).find((e) => e.kind === kind), timeoutMs, 50);
  }
}
