import { z } from 'zod';
import { DriverError } from '@nova-common/core';
import { runCommand } from './run-command.js';

/** One Open vSwitch bridge as its database holds it (only what the OVS plugin reads). */
export interface OvsBridge {
  name: string;
  /** The names of its ports (its own internal port included). */
  ports: string[];
  externalIds: Record<string, string>;
}

/** One Open vSwitch interface and the bridge its port is on. */
export interface OvsInterface {
  name: string;
  bridge: string | undefined;
  externalIds: Record<string, string>;
  mtu: number | undefined;
}

export interface OvsView {
  bridges: OvsBridge[];
  interfaces: OvsInterface[];
}

// `ovs-vsctl -f json list TABLE` prints {"headings": [...], "data": [[...]]}; OVSDB encodes a uuid as
// ["uuid", id], a set as ["set", [...]] (one element: the element alone), a map as ["map", [[k, v], ...]].
const TableSchema = z.object({ headings: z.array(z.string()), data: z.array(z.array(z.unknown())) });

/**
 * The Open vSwitch database through `ovs-vsctl`, with an argument array. Every name reaching it
 * was validated as an interface name (never starting with `-`); external_ids values are built
 * by the plugin from validated uuids and MACs. Each call is one OVSDB transaction, which
 * ovs-vsctl applies whole or not at all, and it waits until ovs-vswitchd has applied it.
 */
export class OvsVsctl {
  constructor(
    /** The OVSDB server (`unix:/path/db.sock`); undefined: ovs-vsctl's default. */
    readonly db: string | undefined,
    readonly timeoutSeconds: number,
  ) {}

  private async run(op: string, args: string[], signal?: AbortSignal): Promise<string> {
    const global = [...(this.db === undefined ? [] : [`--db=${this.db}`]), `--timeout=${this.timeoutSeconds}`];
    const r = await runCommand(op, 'ovs-vsctl', [...global, ...args], signal);
    if (r.ok) return r.stdout;
    // No database to talk to (no ovsdb-server), or ovs-vswitchd never applied the change in time (--timeout
    // ends ovs-vsctl with SIGALRM: no exit code).
    if (/database connection failed/i.test(r.stderr) || r.exitCode === null) {
      throw new DriverError('BACKEND_UNAVAILABLE', { op, detail: `ovs-vsctl ${args.join(' ')}: ${r.stderr || 'timed out'}` });
    }
    throw new DriverError('INTERNAL', { op, detail: `ovs-vsctl ${args.join(' ')} failed (exit ${r.exitCode}): ${r.stderr}` });
  }

  /** Bridges, ports and interfaces in one read (one transaction, so one consistent view). */
  async view(op: string, signal?: AbortSignal): Promise<OvsView> {
    const out = await this.run(op, [
      '-f', 'json',
      '--', '--columns=_uuid,name,ports,external_ids', 'list', 'Bridge',
      '--', '--columns=_uuid,name,interfaces', 'list', 'Port',
      '--', '--columns=_uuid,name,external_ids,mtu', 'list', 'Interface',
    ], signal);
    const tables = out.split('\n').filter((l) => l.trim() !== '').map((l) => rows(op, l));
    if (tables.length !== 3) throw new DriverError('INTERNAL', { op, detail: `ovs-vsctl answered ${tables.length} tables, not 3` });
    const [bridgeRows, portRows, interfaceRows] = tables as [Row[], Row[], Row[]];
    const portName = new Map(portRows.map((p) => [uuid(p._uuid), String(p.name)]));
    const bridgeOfInterface = new Map<string, string>();
    const bridges = bridgeRows.map((b): OvsBridge => {
      const ports = set(b.ports).map((u) => portName.get(uuid(u))).filter((n): n is string => n !== undefined);
      return { name: String(b.name), ports, externalIds: map(b.external_ids) };
    });
    for (const p of portRows) {
      const bridge = bridges.find((b) => b.ports.includes(String(p.name)));
      if (bridge !== undefined) for (const i of set(p.interfaces)) bridgeOfInterface.set(uuid(i), bridge.name);
    }
    const interfaces = interfaceRows.map((i): OvsInterface => {
      const mtu = set(i.mtu)[0];
      return { name: String(i.name), bridge: bridgeOfInterface.get(uuid(i._uuid)), externalIds: map(i.external_ids), mtu: typeof mtu === 'number' ? mtu : undefined };
    });
    return { bridges, interfaces };
  }

  /** A bridge with its datapath type and external_ids, in one transaction. */
  async addBridge(op: string, name: string, datapathType: string, externalIds: Record<string, string>, signal?: AbortSignal): Promise<void> {
    await this.run(op, ['--', 'add-br', name, '--', 'set', 'Bridge', name, `datapath_type=${datapathType}`, ...externalIdArgs(externalIds)], signal);
  }

  /** A port for an existing host device, with the interface's external_ids (and MTU), in one transaction. */
  async addPort(op: string, bridge: string, name: string, externalIds: Record<string, string>, mtu: number | undefined, signal?: AbortSignal): Promise<void> {
    const mtuArgs = mtu === undefined ? [] : [`mtu_request=${mtu}`];
    await this.run(op, ['--', 'add-port', bridge, name, '--', 'set', 'Interface', name, ...externalIdArgs(externalIds), ...mtuArgs], signal);
  }

  async removePort(op: string, bridge: string, name: string, signal?: AbortSignal): Promise<void> {
    await this.run(op, ['--', '--if-exists', 'del-port', bridge, name], signal);
  }

  async removeBridge(op: string, name: string, signal?: AbortSignal): Promise<void> {
    await this.run(op, ['--', '--if-exists', 'del-br', name], signal);
  }
}

type Row = Record<string, unknown>;

function rows(op: string, line: string): Row[] {
  const parsed = TableSchema.safeParse(JSON.parse(line));
  if (!parsed.success) throw new DriverError('INTERNAL', { op, detail: `ovs-vsctl -f json answered an unexpected shape: ${parsed.error.message}` });
  const { headings, data } = parsed.data;
  return data.map((cells) => Object.fromEntries(headings.map((h, i) => [h, cells[i]])));
}

const isTagged = (v: unknown, tag: string): v is [string, unknown] => Array.isArray(v) && v.length === 2 && v[0] === tag;
const uuid = (v: unknown): string => (isTagged(v, 'uuid') ? String(v[1]) : String(v));
const set = (v: unknown): unknown[] => (isTagged(v, 'set') ? (v[1] as unknown[]) : [v]);
const map = (v: unknown): Record<string, string> =>
  isTagged(v, 'map') ? Object.fromEntries((v[1] as [unknown, unknown][]).map(([k, x]) => [String(k), String(x)])) : {};

// Keys and values are the plugin's own (uuids, MACs, fixed words): nothing OVSDB's syntax would read specially,
// but quote them anyway so a value with `:` or `=` stays one string.
const externalIdArgs = (ids: Record<string, string>): string[] =>
  Object.entries(ids).map(([k, v]) => `external_ids:${JSON.stringify(k)}=${JSON.stringify(v)}`);
