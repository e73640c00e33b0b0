import { createHash } from 'node:crypto';
import type { EndpointSettings } from '../client/types.js';
import type { Vif } from './contract-types.js';
import type { Naming } from './labels.js';

/**
 * VIFs -> engine networks.
 *
 * Each contract network id becomes one user-defined bridge network created with
 * `Internal: true` (no route out, no NAT), named `<prefix>-net-<slug>-<hash>` and labelled as
 * owned. A VIF is an endpoint of its container on that network. The endpoint carries two
 * aliases the driver reads back: `<prefix>-vif-<vif id>` and `<prefix>-mac-<12 hex>`, so
 * getInfo reports the interface from the engine's own record. Every instance also sits on
 * the driver's base network (internal too), because engines cannot hot-add a network to a
 * container started with network mode none.
 */
export function baseNetworkName(n: Naming): string {
  return `${n.namePrefix}-${n.ownerId.toLowerCase().replace(/[^a-z0-9_.-]/g, '-')}-base`;
}

export function networkName(n: Naming, networkId: string, overflow?: string): string {
  const slug = networkId.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 32) || 'net';
  const hash = createHash('sha256').update(`${n.ownerId}\0${networkId}`).digest('hex').slice(0, 10);
  return `${n.namePrefix}-net-${slug}-${hash}${overflow ? `-${overflow}` : ''}`;
}

function vifAlias(n: Naming, vifId: string): string {
  return `${n.namePrefix}-vif-${vifId.toLowerCase()}`;
}

function macAlias(n: Naming, mac: string): string {
  return `${n.namePrefix}-mac-${mac.toLowerCase().replace(/:/g, '')}`;
}

/** The endpoint settings for connecting a VIF. MacAddress is honoured by engines from API 1.44. */
export function endpointFor(n: Naming, vif: Vif, withMac: boolean): EndpointSettings {
  const ep: EndpointSettings = { Aliases: [vifAlias(n, vif.id), macAlias(n, vif.address)] };
  if (withMac) ep.MacAddress = vif.address.toLowerCase();
  return ep;
}

/** The VIF an endpoint carries, read back from its aliases. */
export function vifOfEndpoint(n: Naming, ep: EndpointSettings): { id: string; address: string } | undefined {
  const aliases = ep.Aliases ?? [];
  const vifPrefix = `${n.namePrefix}-vif-`;
  const macPrefix = `${n.namePrefix}-mac-`;
  const vif = aliases.find((a) => a.startsWith(vifPrefix));
  if (!vif) return undefined;
  const mac = aliases.find((a) => a.startsWith(macPrefix));
  let address = ep.MacAddress ?? '';
  if (mac) {
    const hex = mac.slice(macPrefix.length);
    if (/^[0-9a-f]{12}$/.test(hex)) address = hex.match(/../g)!.join(':');
  }
  return { id: vif.slice(vifPrefix.length), address };
}
