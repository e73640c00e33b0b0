import { readFile } from 'node:fs/promises';
import { hostname, networkInterfaces, platform, arch } from 'node:os';
import type { ConnectorProperties } from '@nova-common/core/plugs';

/**
 * The host's connector properties (what os-brick calls the connector): its name, its
 * addresses, its iSCSI initiator name when open-iscsi has one, whether multipath is on.
 */
export async function hostConnector(options: { multipath: boolean }): Promise<ConnectorProperties> {
  const ips = Object.values(networkInterfaces())
    .flat()
    .flatMap((a) => (a === undefined || a.internal ? [] : [a.address.split('%')[0]!]));
  let initiator: string | undefined;
  try {
    const text = await readFile('/etc/iscsi/initiatorname.iscsi', 'utf8');
    initiator = /^InitiatorName=(\S+)$/m.exec(text)?.[1];
  } catch {
    initiator = undefined;
  }
  return {
    host: hostname(),
    ips: [...new Set(ips)].slice(0, 64),
    ...(initiator === undefined ? {} : { initiator }),
    multipath: options.multipath,
    platform: arch(),
    osType: platform(),
  };
}
