import { daemonUri } from '../config.js';
import { escapeAttr, escapeText } from './xml-escape.js';

/** libvirtd's default socket: a URI without ?socket= reaches it. */
const DEFAULT_SOCKET = '/run/libvirt/libvirt-sock';

/**
 * What a libvirt destination tells a source in MigrationTarget.address (opaque to the caller):
 * - `daemonUri`: the destination's URI as the source's libvirtd reaches it (peer-to-peer live migration);
 * - `socketPath` and `openUri`: the destination's socket as the source's driver reaches it and the URI
 *   it opens there (a cold migration defines and starts the domain on the destination itself);
 * - `listen`: the IP address the destination's QEMU listens on for an incoming live migration;
 * - `instancesDir`: where the destination keeps its instances' directories (the source copies the
 *   disks there: both hosts see one filesystem, or the source can write the destination's directory).
 * Encoded as `<daemonUri>#socket=..&open=..&instances=..&listen=..`: the part before `#` is a plain libvirt URI.
 */
export interface MigrationAddress {
  daemonUri: string;
  socketPath: string;
  openUri: string;
  instancesDir: string;
  /** The IP address the destination's QEMU listens on for the memory and disk streams. */
  listen: string;
}

/** The URI of a daemon reached at `socketPath` opening `uri`: the driver's own URI, plus ?socket= unless it is libvirt's default. */
export function defaultMigrationUri(uri: string, socketPath: string): string {
  const plain = daemonUri(uri);
  if (socketPath === DEFAULT_SOCKET) return plain;
  const withTransport = plain.replace(/^([a-z][a-z0-9.-]*):\/\//, '$1+unix://');
  return `${withTransport}${withTransport.includes('?') ? '&' : '?'}socket=${socketPath}`;
}

export function formatMigrationAddress(a: MigrationAddress): string {
  const q = new URLSearchParams({ socket: a.socketPath, open: a.openUri, instances: a.instancesDir, listen: a.listen });
  return `${a.daemonUri}#${q.toString()}`;
}

const ABSOLUTE = /^\/[^\0]*$/;

/** The address's parts, or undefined when it is not one a libvirt destination answers. */
export function parseMigrationAddress(address: string): MigrationAddress | undefined {
  const hash = address.indexOf('#');
  if (hash <= 0) return undefined;
  const uri = address.slice(0, hash);
  if (!/^[a-z][a-z0-9+.-]*:\/\/\S*$/.test(uri)) return undefined;
  const q = new URLSearchParams(address.slice(hash + 1));
  const socketPath = q.get('socket');
  const openUri = q.get('open');
  const instancesDir = q.get('instances');
  if (!socketPath || !ABSOLUTE.test(socketPath) || !instancesDir || !ABSOLUTE.test(instancesDir) || instancesDir.split('/').includes('..')) return undefined;
  if (!openUri || !/^[a-z][a-z0-9+.-]*:\/\/\S*$/.test(openUri)) return undefined;
  const listen = q.get('listen');
  if (!listen || !/^[0-9A-Fa-f:.]{2,45}$/.test(listen)) return undefined;
  return { daemonUri: uri, socketPath, openUri, instancesDir, listen };
}

/**
 * A domain XML with the files of one instance directory moved to another (disks, console
 * log): every path starting with `from/` in element text and attributes starts with `to/`. Used for the destination
 * and persistent XML of a live migration, whose instance lives under the destination's directory.
 */
export function relocateXml(xml: string, fromDir: string, toDir: string): string {
  const from = fromDir.replace(/\/+$/, '') + '/';
  const to = toDir.replace(/\/+$/, '') + '/';
  // Only where a path starts: right after an attribute's quote or an element's '>'.
  const swap = (text: string, f: string, t: string): string => text.replace(new RegExp(`(['">])${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'g'), (_m, q: string) => `${q}${t}`);
  let out = swap(xml, escapeAttr(from), escapeAttr(to));
  if (escapeText(from) !== escapeAttr(from)) out = swap(out, escapeText(from), escapeText(to));
  return out;
}
