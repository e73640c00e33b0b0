import { existsSync } from 'node:fs';
import { LibvirtClient } from '../../src/client/libvirt-client.js';

export const SOCKET = process.env['LIBVIRT_SOCKET'] ?? '/run/libvirt/libvirt-sock';
export const GUEST_DIR = '/var/lib/libvirt/images/nova-common';
export const KERNEL = `${GUEST_DIR}/guest/vmlinuz`;
export const INITRD = `${GUEST_DIR}/guest/initrd.img`;

/** Throws a clear error when libvirtd is not answering: these tests need the real daemon. */
export async function requireLibvirtd(uri: string): Promise<void> {
  const c = new LibvirtClient({ socketPath: SOCKET, uri, connectTimeoutMs: 5_000, keepaliveIntervalMs: 0 });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(
      `libvirtd is not reachable at ${SOCKET} (${(err as Error).message}). These tests need the real daemon: run scripts/backends/libvirt.sh install && scripts/backends/libvirt.sh start`,
    );
  } finally {
    await c.close().catch(() => undefined);
  }
}

/** Throws a clear error when the tiny guest has not been built. */
export function requireGuest(): void {
  if (!existsSync(KERNEL) || !existsSync(INITRD)) {
    throw new Error(`the QEMU test guest is missing (${KERNEL}, ${INITRD}): run scripts/guest/build.sh (scripts/backends/libvirt.sh install does)`);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll until `check` returns a value or the time is up. */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
