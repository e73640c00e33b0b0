/**
 * The config drive, in the JSON form Ironic accepts since API 1.56:
 * `{meta_data, user_data, network_data}`. Ironic turns it into the ISO image itself when a
 * real deploy interface writes it (and with fake hardware it only stores it).
 *
 * Why the dict form rather than building a gzipped ISO 9660 here as Nova does: Nova needs
 * genisoimage on the compute host and ships the whole image on every deploy; the dict is a
 * few hundred bytes, needs no tool, and puts user strings into JSON only (never into a
 * shell command or an image builder). The cost: user data must be UTF-8 text, because the
 * dict carries it as a JSON string.
 */
import type { InstanceSpec, Vif } from '@nova-common/core';
import type { OwnerRecord } from './instance-info.js';

export interface ConfigDrive {
  meta_data: Record<string, unknown>;
  user_data?: string;
  network_data: NetworkData;
}

export interface NetworkData {
  links: Array<{ id: string; type: 'phy'; ethernet_mac_address: string; mtu: number | null; vif_id: string }>;
  networks: Array<Record<string, unknown>>;
  services: Array<{ type: 'dns'; address: string }>;
}

export class BinaryUserDataError extends Error {
  override readonly name = 'BinaryUserDataError';
}

/** RFC 952/1123 host name from a display name, as Nova derives it. */
export function hostnameOf(name: string, uuid: string): string {
  const h = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/g, '');
  return h.length > 0 ? h : `server-${uuid}`;
}

/** Base64 user data -> text; binary data cannot travel in the JSON form. */
export function userDataText(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new BinaryUserDataError('user data is not UTF-8 text; the JSON config drive carries text only');
  }
}

function v4Netmask(prefix: number): string {
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 0xff).join('.');
}

function v6Netmask(prefix: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) {
    const n = Math.max(0, Math.min(16, prefix - i * 16));
    groups.push((n === 0 ? 0 : (0xffff << (16 - n)) & 0xffff).toString(16));
  }
  return groups.join(':');
}

function linkId(vif: Vif): string {
  return `tap${vif.id.slice(0, 11)}`;
}

/** Nova's network_data.json (nova/virt/netutils.py), for physical links. */
function networkDataOf(vifs: readonly Vif[]): NetworkData {
  const links: NetworkData['links'] = [];
  const networks: NetworkData['networks'] = [];
  const dns = new Set<string>();
  for (const vif of vifs) {
    const link = linkId(vif);
    links.push({ id: link, type: 'phy', ethernet_mac_address: vif.address.toLowerCase(), mtu: vif.network.mtu ?? null, vif_id: vif.id });
    let any = false;
    for (const subnet of vif.network.subnets) {
      const [, prefixText] = subnet.cidr.split('/');
      const prefix = Number(prefixText);
      const v6 = subnet.cidr.includes(':');
      for (const d of subnet.dns) dns.add(d);
      for (const ip of subnet.ips.filter((i) => i.type === 'fixed')) {
        any = true;
        const net: Record<string, unknown> = {
          id: `network${networks.length}`,
          type: v6 ? 'ipv6' : 'ipv4',
          link,
          ip_address: ip.address,
          netmask: v6 ? v6Netmask(prefix) : v4Netmask(prefix),
          routes: subnet.gateway
            ? [{ network: v6 ? '::' : '0.0.0.0', netmask: v6 ? '::' : '0.0.0.0', gateway: subnet.gateway }]
            : [],
          network_id: vif.network.id,
          services: subnet.dns.map((address) => ({ type: 'dns', address })),
        };
        networks.push(net);
      }
    }
    if (!any) networks.push({ id: `network${networks.length}`, type: 'ipv4_dhcp', link, network_id: vif.network.id });
  }
  return { links, networks, services: [...dns].map((address) => ({ type: 'dns' as const, address })) };
}

/** meta_data.json: identity, host name, metadata and the public key. Deterministic (no random seed). */
function metaDataOf(spec: Pick<InstanceSpec, 'uuid' | 'name' | 'metadata' | 'keyData'>): Record<string, unknown> {
  const meta: Record<string, unknown> = {
    uuid: spec.uuid,
    name: spec.name,
    hostname: hostnameOf(spec.name, spec.uuid),
    launch_index: 0,
    meta: { ...spec.metadata },
  };
  if (spec.keyData) {
    meta.public_keys = { default: spec.keyData };
    meta.keys = [{ name: 'default', type: 'ssh', data: spec.keyData }];
  }
  return meta;
}

export function buildConfigDrive(spec: Pick<InstanceSpec, 'uuid' | 'name' | 'metadata' | 'keyData' | 'userData' | 'networkInfo'>): ConfigDrive {
  const drive: ConfigDrive = { meta_data: metaDataOf(spec), network_data: networkDataOf(spec.networkInfo) };
  if (spec.userData !== undefined) drive.user_data = userDataText(spec.userData);
  return drive;
}

/**
 * The config drive of a redeploy (rebuild, or recovering a node whose deploy failed), made from
 * the ownership record: the instance's identity and metadata, and links for the interfaces it has
 * now (their addresses only: the record keeps no subnets).
 */
export function configDriveOfRecord(uuid: string, rec: OwnerRecord): ConfigDrive {
  const drive = buildConfigDrive({ uuid, name: rec.name, metadata: rec.metadata, networkInfo: [] });
  drive.network_data = {
    links: rec.vifs.map((v) => ({ id: `tap${v.id.slice(0, 11)}`, type: 'phy' as const, ethernet_mac_address: v.address, mtu: null, vif_id: v.id })),
    networks: rec.vifs.map((v, i) => ({ id: `network${i}`, type: 'ipv4_dhcp', link: `tap${v.id.slice(0, 11)}` })),
    services: [],
  };
  return drive;
}
