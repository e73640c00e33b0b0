import { isIP } from 'node:net';
import { isRole, type Role } from './roles.js';

/** Where a listener listens. */
export type ListenAddress =
  | { readonly kind: 'unix'; readonly path: string; readonly text: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly text: string };

/** A listener: its address and the role of every caller it accepts (a ceiling for TLS callers). */
export interface ListenerSpec {
  readonly address: ListenAddress;
  readonly role: Role;
}

export class ListenError extends Error {
  override readonly name = 'ListenError';
}

/** `unix:///run/nova-common/agent.sock` or `tcp://127.0.0.1:7443` (`tcp://[::1]:7443`). */
export function parseListenAddress(text: string): ListenAddress {
  if (text.startsWith('unix://')) {
    const path = text.slice('unix://'.length);
    if (!path.startsWith('/')) throw new ListenError(`${text}: a unix socket address needs an absolute path (unix:///run/nova-common/agent.sock)`);
    return { kind: 'unix', path, text };
  }
  const tcp = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d{1,5})$/.exec(text);
  if (tcp !== null) {
    const host = tcp[1]!.replace(/^\[|\]$/g, '');
    const port = Number(tcp[2]);
    if (port > 65535) throw new ListenError(`${text}: port ${port} is out of range`);
    return { kind: 'tcp', host, port, text };
  }
  throw new ListenError(`${text}: expected unix:///absolute/path or tcp://host:port`);
}

/** `network=unix:///run/nova-common/network.sock`: a listener whose callers hold one role. */
export function parseRoleListener(text: string): ListenerSpec {
  const eq = text.indexOf('=');
  const role = eq < 0 ? '' : text.slice(0, eq);
  if (!isRole(role)) throw new ListenError(`${text}: expected <role>=<address> with a role among compute, network, volume, reader`);
  return { role, address: parseListenAddress(text.slice(eq + 1)) };
}

/** 127.0.0.0/8, ::1 and `localhost`: the addresses no other machine can reach. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1' || /^::ffff:127\./i.test(host);
  return false;
}

/** grpc-js's form of the address. */
export function grpcTarget(address: ListenAddress): string {
  return address.kind === 'unix' ? `unix://${address.path}` : `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}
