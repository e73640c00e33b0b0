import type { BackendWitness, WitnessMachine } from '@nova-common/core';
import { LibvirtClient } from './client/libvirt-client.js';
import { bytesToUuid } from './client/protocol/remote-types.js';
import { daemonUri, type LibvirtDriverConfig } from './config.js';
import { isInstanceDomainName } from './mapping/domain-xml.js';
import { isActive } from './mapping/state.js';

/**
 * libvirtd as the conformance suite's witness sees it: every domain named the way a driver
 * with this configuration's namePrefix names an instance's domain (`<namePrefix><uuid>-<tag>`),
 * read over a second connection to libvirtd with the driver's own protocol client, never
 * through the driver. Running while libvirt says the domain is active (a QEMU process: running,
 * paused, shutting down); shut off and saved domains are still machines on the backend.
 */
export function libvirtWitness(config: LibvirtDriverConfig): BackendWitness {
  const client = new LibvirtClient({ socketPath: config.socketPath, uri: daemonUri(config.uri), keepaliveIntervalMs: 0 });
  return {
    async listMachines(): Promise<WitnessMachine[]> {
      await client.connect();
      const machines: WitnessMachine[] = [];
      for (const domain of await client.listAllDomains()) {
        if (!domain.name.startsWith(config.namePrefix)) continue;
        const uuid = bytesToUuid(domain.uuid);
        if (!isInstanceDomainName(config.namePrefix, uuid, domain.name)) continue;
        let running: boolean | undefined;
        try {
          running = isActive((await client.getState(domain)).state);
        } catch {
          // Gone between the list and the read: the machine is reported without a power state.
        }
        machines.push(running === undefined ? { uuid } : { uuid, running });
      }
      return machines;
    },
    close: () => client.close(),
  };
}
