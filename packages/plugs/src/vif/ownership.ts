/**
 * How a plugin marks the devices it creates, so it never touches one it did not: the
 * interface alias (`ifalias`), which the kernel keeps with the device, so ownership survives
 * a restart of the plugin's process. Names alone prove nothing: an operator's `tap0` is not ours.
 */
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const MAC = '[0-9a-f]{2}(?::[0-9a-f]{2}){5}';
const DEVICE_ALIAS = new RegExp(`^nova-common:vif:(${UUID}):(${UUID}):(${MAC})$`);
const PEER_ALIAS = new RegExp(`^nova-common:peer:(${UUID}):(${UUID})$`);
export const BRIDGE_ALIAS = 'nova-common:bridge';

/** The host end's alias also carries the guest's MAC: a tap's own MAC is not the guest's, and listPlugged answers the guest's. */
export const deviceAlias = (vifId: string, instanceUuid: string, address: string): string =>
  `nova-common:vif:${vifId}:${instanceUuid}:${address.toLowerCase()}`;
export const peerAlias = (vifId: string, instanceUuid: string): string => `nova-common:peer:${vifId}:${instanceUuid}`;

export interface Owner {
  vifId: string;
  instanceUuid: string;
  /** The guest's MAC (host ends only). */
  address?: string;
}

/** The port a device was created for, when this plugin created it (as the host end of the port). */
export function ownerOfDevice(alias: string | undefined): Owner | undefined {
  const m = alias === undefined ? null : DEVICE_ALIAS.exec(alias);
  return m === null ? undefined : { vifId: m[1]!, instanceUuid: m[2]!, address: m[3]! };
}

/** The port a veth peer end was created for. */
export function ownerOfPeer(alias: string | undefined): Owner | undefined {
  const m = alias === undefined ? null : PEER_ALIAS.exec(alias);
  return m === null ? undefined : { vifId: m[1]!, instanceUuid: m[2]! };
}

/** Default device names, Nova-style: a prefix and the port id's first 11 characters (15 bytes at most). */
export const defaultDeviceName = (prefix: string, vifId: string): string => `${prefix}${vifId.replace(/-/g, '').slice(0, 11)}`;
