import { DriverError, KeyedQueue, type Vif } from '@nova-common/core';
import type { PlugCallOptions, PlugInstance, PluggedVif, VifPlugin, VifType } from '@nova-common/core/plugs';
import { IpLink, type Link } from '../host/ip-link.js';
import { BRIDGE_ALIAS, defaultDeviceName, deviceAlias, ownerOfDevice, ownerOfPeer, peerAlias } from './ownership.js';

export interface BridgePluginOptions {
  /** The network namespace the devices live in (default: the host's). */
  netns?: string;
}

type PortKind = 'tap' | 'veth';

/**
 * A VIF plugin that puts one host device per port on a Linux bridge: a tap the hypervisor
 * opens by name, or a veth pair whose peer the container driver moves into the container.
 * The bridge is the network service's; when it does not exist yet the plugin creates it,
 * marks it as its own, and removes it when its last port leaves. A bridge it did not create
 * is never removed or reconfigured.
 */
export class BridgePortPlugin implements VifPlugin {
  readonly vifTypes: readonly VifType[];
  private readonly ip: IpLink;
  /** Ports joining or leaving one bridge run one after another: creating or removing a bridge is not atomic. */
  private readonly bridges = new KeyedQueue();

  constructor(
    readonly name: string,
    private readonly kind: PortKind,
    options: BridgePluginOptions = {},
  ) {
    this.vifTypes = kind === 'tap' ? ['bridge', 'tap'] : ['bridge', 'ethernet'];
    this.ip = new IpLink(options.netns);
  }

  async plug(vif: Vif, instance: PlugInstance, options: PlugCallOptions = {}): Promise<PluggedVif> {
    const signal = options.signal;
    const bridge = vif.network.bridge;
    if (bridge === undefined) throw invalid(vif.id, ['vif', 'network', 'bridge'], 'is required: the port goes on a Linux bridge');
    const device = vif.devname ?? defaultDeviceName(this.kind === 'tap' ? 'tap' : 'vh', vif.id);
    const peer = this.kind === 'veth' ? defaultDeviceName('vg', vif.id) : undefined;
    const result: PluggedVif = {
      vifId: vif.id,
      instanceUuid: instance.uuid,
      kind: this.kind,
      device,
      ...(peer === undefined ? {} : { peer }),
      bridge,
      address: vif.address,
      ...(vif.network.mtu === undefined ? {} : { mtu: vif.network.mtu }),
    };
    const links = await this.ip.list('plug', signal);
    const mine = links.find((l) => ownerOfDevice(l.alias)?.vifId === vif.id);
    if (mine !== undefined) {
      const owner = ownerOfDevice(mine.alias)!;
      if (owner.instanceUuid !== instance.uuid) {
        throw new DriverError('CONFLICT', { op: 'plug', target: vif.id, detail: `the port is plugged for instance ${owner.instanceUuid}` });
      }
      // Plugged already (a retry): the same device, as it is on the host.
      return { ...result, device: mine.name, ...(mine.peer === undefined ? {} : { peer: mine.peer }), bridge: mine.master ?? bridge };
    }
    refuseForeign(links, device, vif.devname === undefined ? ['vif', 'id'] : ['vif', 'devname'], vif.id);
    if (peer !== undefined) refuseForeign(links, peer, ['vif', 'id'], vif.id);
    const bridgeLink = links.find((l) => l.name === bridge);
    if (bridgeLink !== undefined && bridgeLink.kind !== 'bridge') {
      throw invalid(vif.id, ['vif', 'network', 'bridge'], `names the device ${bridge}, which is not a bridge`);
    }

    return this.bridges.run(bridge, async () => {
      let bridgeCreated = false;
      try {
        // Absent before the lock: a plug of another port may have made it meanwhile, so look again.
        if (bridgeLink === undefined && !(await this.exists(bridge, signal))) {
          await this.ip.addBridge('plug', bridge, BRIDGE_ALIAS, vif.network.mtu, signal);
          bridgeCreated = true;
        }
        const alias = deviceAlias(vif.id, instance.uuid, vif.address);
        const mtu = vif.network.mtu;
        // IpLink removes a device it made when configuring it fails, so a failure here leaves no device.
        if (this.kind === 'tap') await this.ip.addTap('plug', device, alias, mtu, bridge, signal);
        else await this.ip.addVeth('plug', { name: device, peer: peer!, alias, peerAlias: peerAlias(vif.id, instance.uuid), peerAddress: vif.address, mtu }, bridge, signal);
        return result;
      } catch (error) {
        // A failed plug leaves nothing: a bridge made for it goes too (without the caller's signal, which may be what failed).
        if (bridgeCreated) await this.removeBridgeIfUnused(bridge);
        throw error;
      }
    });
  }

  async unplug(vif: Vif, instance: PlugInstance, options: PlugCallOptions = {}): Promise<void> {
    const links = await this.ip.list('unplug', options.signal);
    const mine = links.find((l) => {
      const owner = ownerOfDevice(l.alias);
      return owner?.vifId === vif.id && owner.instanceUuid === instance.uuid;
    });
    if (mine === undefined) return; // Not plugged for this instance: nothing to do (PLUG_SEMANTICS).
    const bridge = mine.master;
    // Only a bridge this plugin made may be removed, once its last port is gone (looked at under the bridge's lock).
    const ours = links.find((l) => l.name === bridge)?.alias === BRIDGE_ALIAS;
    const removeDevice = async (): Promise<void> => {
      await this.ip.remove('unplug', mine.name, options.signal);
      if (bridge !== undefined && ours && (await this.ip.portsOf('unplug', bridge)).length === 0) await this.ip.remove('unplug', bridge);
    };
    await (bridge === undefined ? removeDevice() : this.bridges.run(bridge, removeDevice));
  }

  async listPlugged(options: PlugCallOptions = {}): Promise<PluggedVif[]> {
    const links = await this.ip.list('listPlugged', options.signal);
    const peers = new Map(links.filter((l) => ownerOfPeer(l.alias) !== undefined).map((l) => [l.name, l]));
    return links.flatMap((l): PluggedVif[] => {
      const owner = ownerOfDevice(l.alias);
      if (owner === undefined || (l.kind === 'veth') !== (this.kind === 'veth')) return [];
      const peer = l.peer !== undefined && peers.has(l.peer) ? l.peer : undefined;
      return [
        {
          vifId: owner.vifId,
          instanceUuid: owner.instanceUuid,
          kind: this.kind,
          device: l.name,
          ...(peer === undefined ? {} : { peer }),
          ...(l.master === undefined ? {} : { bridge: l.master }),
          address: owner.address!,
          mtu: l.mtu,
        },
      ];
    });
  }

  private async exists(name: string, signal: AbortSignal | undefined): Promise<boolean> {
    return (await this.ip.list('plug', signal)).some((l) => l.name === name);
  }

  /** Remove a bridge this plugin created once no device is on it; never one it did not create. */
  private async removeBridgeIfUnused(bridge: string): Promise<void> {
    const links = await this.ip.list('unplug');
    const link = links.find((l) => l.name === bridge);
    if (link === undefined || link.alias !== BRIDGE_ALIAS) return;
    if (links.some((l) => l.master === bridge)) return;
    await this.ip.remove('unplug', bridge);
  }
}

/** A name the plugin would create that already exists on the host as someone else's device: refused, untouched. */
function refuseForeign(links: Link[], name: string, path: string[], vifId: string): void {
  const existing = links.find((l) => l.name === name);
  if (existing === undefined) return;
  throw invalid(vifId, path, `names the existing device ${name}, which this plugin did not create for this port`);
}

const invalid = (vifId: string, path: string[], message: string): DriverError =>
  new DriverError('INVALID_INPUT', { op: 'plug', target: vifId, issues: [{ path, message }] });
