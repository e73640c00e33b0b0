import { z } from 'zod';
import { DriverError } from '@nova-common/core';
import { mustRun } from './run-command.js';

export interface VethPair {
  name: string;
  peer: string;
  alias: string;
  peerAlias: string;
  peerAddress: string;
  mtu: number | undefined;
}

/** One network device as `ip -j -d link show` reports it (only the fields the plugins read). */
export interface Link {
  name: string;
  alias: string | undefined;
  master: string | undefined;
  kind: string | undefined;
  mtu: number;
  address: string | undefined;
  /** For a veth: the name of its peer. */
  peer: string | undefined;
}

const LinkJsonSchema = z.array(
  z.looseObject({
    ifname: z.string(),
    ifalias: z.string().optional(),
    address: z.string().optional(),
    master: z.string().optional(),
    mtu: z.number(),
    link: z.string().nullable().optional(),
    linkinfo: z.looseObject({ info_kind: z.string().optional() }).optional(),
  }),
);

/**
 * The host's network devices through iproute2, in one network namespace (the host's when
 * `netns` is undefined). Every name reaching it was validated as an interface name
 * (InterfaceNameSchema), which never starts with `-`.
 */
export class IpLink {
  constructor(readonly netns: string | undefined) {}

  private args(rest: string[]): string[] {
    return this.netns === undefined ? rest : ['-n', this.netns, ...rest];
  }

  private run(op: string, rest: string[], signal?: AbortSignal): Promise<string> {
    return mustRun(op, 'ip', this.args(rest), signal);
  }

  async list(op: string, signal?: AbortSignal): Promise<Link[]> {
    const out = await this.run(op, ['-j', '-d', 'link', 'show'], signal);
    const parsed = LinkJsonSchema.safeParse(JSON.parse(out === '' ? '[]' : out));
    if (!parsed.success) throw new DriverError('INTERNAL', { op, detail: `ip -j link show answered an unexpected shape: ${parsed.error.message}` });
    return parsed.data.map((l) => ({
      name: l.ifname,
      alias: l.ifalias,
      master: l.master,
      kind: l.linkinfo?.info_kind,
      address: l.address,
      mtu: l.mtu,
      peer: l.linkinfo?.info_kind === 'veth' && typeof l.link === 'string' ? l.link : undefined,
    }));
  }

  async addBridge(op: string, name: string, alias: string, mtu: number | undefined, signal?: AbortSignal): Promise<void> {
    await this.run(op, ['link', 'add', 'name', name, ...mtuArgs(mtu), 'type', 'bridge'], signal);
    await this.configureOrRemove(op, name, async () => {
      await this.run(op, ['link', 'set', 'dev', name, 'alias', alias, 'up'], signal);
    });
  }

  /** A tap on `bridge` (none: left for a switch that is not a Linux bridge), configured (MTU, alias, bridge, up) in one `ip link set`. */
  async addTap(op: string, name: string, alias: string, mtu: number | undefined, bridge: string | undefined, signal?: AbortSignal): Promise<void> {
    await this.run(op, ['tuntap', 'add', 'dev', name, 'mode', 'tap'], signal);
    await this.configureOrRemove(op, name, async () => {
      const master = bridge === undefined ? [] : ['master', bridge];
      await this.run(op, ['link', 'set', 'dev', name, ...mtuArgs(mtu), 'alias', alias, ...master, 'up'], signal);
    });
  }

  /** A veth pair: `name` stays on the host (on `bridge`), `peer` carries the guest's MAC for the container. */
  async addVeth(op: string, pair: VethPair, bridge: string, signal?: AbortSignal): Promise<void> {
    const { name, peer, mtu } = pair;
    await this.run(op, ['link', 'add', 'name', name, ...mtuArgs(mtu), 'type', 'veth', 'peer', 'name', peer, ...mtuArgs(mtu)], signal);
    await this.configureOrRemove(op, name, async () => {
      await this.run(op, ['link', 'set', 'dev', peer, 'address', pair.peerAddress, 'alias', pair.peerAlias], signal);
      await this.run(op, ['link', 'set', 'dev', name, 'alias', pair.alias, 'master', bridge, 'up'], signal);
    });
  }

  /** The names of the devices on `bridge` (a cheaper look than the whole list). */
  async portsOf(op: string, bridge: string, signal?: AbortSignal): Promise<string[]> {
    const out = await this.run(op, ['-j', 'link', 'show', 'master', bridge], signal);
    return (JSON.parse(out.trim() === '' ? '[]' : out) as { ifname: string }[]).map((l) => l.ifname);
  }

  async remove(op: string, name: string, signal?: AbortSignal): Promise<void> {
    await this.run(op, ['link', 'del', 'dev', name], signal);
  }

  /** A device just created is removed again when configuring it fails: no half-made device stays. */
  private async configureOrRemove(op: string, name: string, configure: () => Promise<void>): Promise<void> {
    try {
      await configure();
    } catch (error) {
      await this.remove(op, name).catch(() => undefined);
      throw error;
    }
  }

}

const mtuArgs = (mtu: number | undefined): string[] => (mtu === undefined ? [] : ['mtu', String(mtu)]);
