import { z } from 'zod';
import { DriverError } from '@nova-common/core';
import { mustRun, runCommand } from './run-command.js';

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

  /**
   * Several `ip` commands in one process (`ip -batch -`, which stops at the first that fails):
   * making and configuring a device costs one process, not one per step. ip splits a batch line
   * at white space and reads quotes and `#` itself, so a token holding any of them is refused
   * (names reaching here are validated interface names, MACs and aliases made of them).
   */
  /**
   * Make a device and configure it in one process (`ip -batch -`, which stops at the first
   * command that fails): one process, not one per step. The first command makes the device; when
   * a later one fails, the device is removed again, so no half-made device stays. When the first
   * fails nothing was made, and nothing is removed: the name may be someone else's. ip splits a
   * batch line at white space and reads quotes and `#` itself, so a token holding any of them is
   * refused (names reaching here are validated interface names, MACs and aliases made of them).
   */
  private async makeOrRemove(op: string, name: string, commands: string[][], signal?: AbortSignal): Promise<void> {
    for (const token of commands.flat()) {
      if (!/^[^\s"'#\\]+$/.test(token)) throw new DriverError('INTERNAL', { op, detail: `refused to send ${JSON.stringify(token)} to ip -batch` });
    }
    let r: Awaited<ReturnType<typeof runCommand>>;
    try {
      r = await runCommand(op, 'ip', this.args(['-batch', '-']), signal, `${commands.map((c) => c.join(' ')).join('\n')}\n`);
    } catch (error) {
      // Cancelled while ip ran: any step may have happened. The name was free when the plugin
      // listed the devices before making it, so what stands under it now is this call's.
      await this.remove(op, name).catch(() => undefined);
      throw error;
    }
    if (r.ok) return;
    const failedLine = Number(/Command failed -:(\d+)/.exec(r.stderr)?.[1] ?? '0');
    if (failedLine !== 1) await this.remove(op, name).catch(() => undefined);
    throw new DriverError('INTERNAL', { op, detail: `ip ${commands[Math.max(failedLine, 1) - 1]!.join(' ')} failed (exit ${r.exitCode}): ${r.stderr}` });
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

  /** A tap on `bridge` (none: left for a switch that is not a Linux bridge), made and configured (MTU, alias, bridge, up) in one ip process. */
  async addTap(op: string, name: string, alias: string, mtu: number | undefined, bridge: string | undefined, signal?: AbortSignal): Promise<void> {
    const master = bridge === undefined ? [] : ['master', bridge];
    await this.makeOrRemove(op, name, [['tuntap', 'add', 'dev', name, 'mode', 'tap'], ['link', 'set', 'dev', name, ...mtuArgs(mtu), 'alias', alias, ...master, 'up']], signal);
  }

  /** A veth pair: `name` stays on the host (on `bridge`), `peer` carries the guest's MAC for the container. */
  async addVeth(op: string, pair: VethPair, bridge: string, signal?: AbortSignal): Promise<void> {
    const { name, peer, mtu } = pair;
    await this.makeOrRemove(
      op,
      name,
      [
        ['link', 'add', 'name', name, ...mtuArgs(mtu), 'type', 'veth', 'peer', 'name', peer, ...mtuArgs(mtu)],
        ['link', 'set', 'dev', peer, 'address', pair.peerAddress, 'alias', pair.peerAlias],
        ['link', 'set', 'dev', name, 'alias', pair.alias, 'master', bridge, 'up'],
      ],
      signal,
    );
  }

  /** The names of the devices on `bridge` (a cheaper look than the whole list). */
  async portsOf(op: string, bridge: string, signal?: AbortSignal): Promise<string[]> {
    const out = await this.run(op, ['-j', 'link', 'show', 'master', bridge], signal);
    return (JSON.parse(out.trim() === '' ? '[]' : out) as { ifname: string }[]).map((l) => l.ifname);
  }

  async remove(op: string, name: string, signal?: AbortSignal): Promise<void> {
    await this.run(op, ['link', 'del', 'dev', name], signal);
  }

  /**
   * A device is removed again when making or configuring it fails: no half-made device stays.
   * (The removal fails harmlessly when the device was never made; a name that was taken already
   * was refused before: the plugin never makes a device under a name that exists.)
   */
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
