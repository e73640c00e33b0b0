import { guard, type GuardedDriver } from '@nova-common/core';
import { LibvirtDriverConfigSchema } from '../../src/config.js';
import { createLibvirtDriver } from '../../src/driver/driver.js';
import { libvirtWitness } from '../../src/witness.js';
import { requireGuest, requireLibvirtd } from './backend.js';
import { qemuConfig } from './qemu.js';

/**
 * The two libvirt hosts of this machine as the two-host tests use them: host a is the
 * system daemon (scripts/backends/libvirt.sh), host b the second daemon
 * (scripts/backends/libvirt-b.sh) with its own socket and instance directory. a's
 * migrationAddress is a's daemon as b's daemon reaches it.
 */
export const B_SOCKET = '/run/nova-common/libvirt-b/libvirt-sock';
export const A_FROM_B = 'qemu+unix:///system?socket=/run/nova-common/libvirt-b/host-a/libvirt-sock';
export const DIR_B = '/var/lib/libvirt/images/nova-common/instances-b';

/** Both hosts' drivers (guarded) and daemon witnesses, for domains of `prefix` only. */
export function twoLibvirtHosts(prefix: string) {
  const configA = LibvirtDriverConfigSchema.parse(qemuConfig(prefix, { migrationAddress: A_FROM_B }));
  const configB = LibvirtDriverConfigSchema.parse(qemuConfig(prefix, { socketPath: B_SOCKET, instancesDir: DIR_B }));
  const a: GuardedDriver = guard(createLibvirtDriver(configA));
  const b: GuardedDriver = guard(createLibvirtDriver(configB));
  const witnesses = { a: libvirtWitness(configA), b: libvirtWitness(configB) };
  return {
    a,
    b,
    witnesses,
    /** Both daemons up and both drivers initialised; fails loudly, naming the script, when b is not up. */
    async start(): Promise<void> {
      await requireLibvirtd('qemu:///system');
      requireGuest();
      try {
        await b.initHost();
      } catch (err) {
        throw new Error(`host b's libvirtd is not reachable at ${B_SOCKET} (${(err as Error).message}): run scripts/backends/libvirt-b.sh start`);
      }
      await a.initHost();
    },
    async stop(): Promise<void> {
      await a.cleanupHost();
      await b.cleanupHost();
      await witnesses.a.close?.();
      await witnesses.b.close?.();
    },
  };
}
