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
import { randomBytes } from 'node:crypto';
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

/** What meta_data carries that the instance spec does not (config.configDrive), and the random source. */
export interface ConfigDriveOptions {
  availabilityZone: string;
  projectId: string;
  /** Nova's [api] dhcp_domain: appended to the host name; empty: none. */
  dhcpDomain: string;
  /** Source of meta_data.random_seed (512 bytes, as Nova); tests pass a fixed one. */
  random?: (size: number) => Buffer;
}

/**
 * The instance's host name from its display name exactly as Nova derives it
 * (nova/utils.py sanitize_hostname, nova/compute/api.py): characters outside U+0000-U+00FF
 * dropped, cut to 63 characters, space `_` `.` turned into `-`, everything but letters, digits
 * (Unicode ones: Latin-1 letters such as é, ß, ñ stay), `_`, `.` and `-` dropped, lower-cased,
 * `.` and `-` trimmed from both ends; empty: `Server-<uuid>`. Like Nova's, the result can hold
 * non-ASCII letters, which DNS does not take: guests use it as given (cloud-init sets it).
 */
export function hostnameOf(name: string, uuid: string): string {
  let h = [...name].filter((c) => c.codePointAt(0)! <= 0xff).join('');
  h = h.slice(0, 63);
  h = h.replace(/[ _.]/g, '-');
  h = h.replace(/[^\p{L}\p{N}_.-]+/gu, '');
  h = h.toLowerCase();
  h = h.replace(/^[.-]+|[.-]+$/g, '');
  return h.length > 0 ? h : `Server-${uuid}`;
}

/** meta_data.hostname: the host name, with Nova's dhcp_domain when one is set. */
function fqdnOf(hostname: string, domain: string): string {
  return domain ? `${hostname}.${domain}` : hostname;
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

/**
 * meta_data.json as Nova's metadata service writes it (nova/api/metadata/base.py
 * _metadata_as_json): identity, metadata, the public key, host name, name, launch index,
 * availability zone, a fresh 512-byte random seed and the project. Not carried: `files`
 * (no injected files in the contract), `devices` (device tags), `dedicated_cpus` (no CPU pinning
 * on bare metal), `network_config` (legacy injection).
 */
function metaDataOf(spec: Pick<InstanceSpec, 'uuid' | 'name' | 'metadata' | 'keyData'>, o: ConfigDriveOptions): Record<string, unknown> {
  const meta: Record<string, unknown> = { uuid: spec.uuid, meta: { ...spec.metadata } };
  if (spec.keyData) {
    meta.public_keys = { default: spec.keyData };
    meta.keys = [{ name: 'default', type: 'ssh', data: spec.keyData }];
  }
  meta.hostname = fqdnOf(hostnameOf(spec.name, spec.uuid), o.dhcpDomain);
  meta.name = spec.name;
  meta.launch_index = 0;
  meta.availability_zone = o.availabilityZone;
  meta.random_seed = (o.random ?? randomBytes)(512).toString('base64');
  meta.project_id = o.projectId;
  return meta;
}

export function buildConfigDrive(spec: Pick<InstanceSpec, 'uuid' | 'name' | 'metadata' | 'keyData' | 'userData' | 'networkInfo'>, o: ConfigDriveOptions): ConfigDrive {
  const drive: ConfigDrive = { meta_data: metaDataOf(spec, o), network_data: networkDataOf(spec.networkInfo) };
  if (spec.userData !== undefined) drive.user_data = userDataText(spec.userData);
  return drive;
}

/**
 * The config drive of a redeploy (rebuild, or recovering a node whose deploy failed), made from
 * the ownership record: the instance's identity and metadata, and links for the interfaces it has
 * now (their addresses only: the record keeps no subnets).
 */
export function configDriveOfRecord(uuid: string, rec: OwnerRecord, o: ConfigDriveOptions): ConfigDrive {
  const drive = buildConfigDrive({ uuid, name: rec.name, metadata: rec.metadata, networkInfo: [] }, o);
  drive.network_data = {
    links: rec.vifs.map((v) => ({ id: `tap${v.id.slice(0, 11)}`, type: 'phy' as const, ethernet_mac_address: v.address, mtu: null, vif_id: v.id })),
    networks: rec.vifs.map((v, i) => ({ id: `network${i}`, type: 'ipv4_dhcp', link: `tap${v.id.slice(0, 11)}` })),
    services: [],
  };
  return drive;
}
