import { DriverError, KeyedQueue, type Vif } from '@nova-common/core';
import type { PlugCallOptions, PlugInstance, PluggedVif, VifPlugin, VifType } from '@nova-common/core/plugs';
import { IpLink } from '../host/ip-link.js';
import { OvsVsctl, type OvsInterface, type OvsView } from '../host/ovs-vsctl.js';
import { BRIDGE_ALIAS, defaultDeviceName, deviceAlias, ownerOfDevice, type Owner } from './ownership.js';

export interface OvsPluginOptions {
  /** The network namespace the taps live in, where ovs-vswitchd runs (default: the host's). */
  netns?: string;
  /** The OVSDB server, e.g. `unix:/run/openvswitch/db.sock` (default: ovs-vsctl's own default). */
  db?: string;
  /** The datapath of a bridge the plugin creates: `netdev` (user space, the default) or `system` (the kernel module). */
  datapathType?: 'netdev' | 'system';
  /** How long one ovs-vsctl call may wait for the database and ovs-vswitchd (default 10 s). */
  timeoutSeconds?: number;
}

/** The external_ids key that marks what this plugin created (value: the device alias, or `nova-common:bridge`). */
export const OVS_OWNER_KEY = 'nova-common-owner';

/**
 * A VIF plugin for Open vSwitch, as os-vif's `ovs` plugin wires a hypervisor port: one tap per
 * port, added to the OVS bridge the network service named (`vif.network.bridge`), its Interface
 * row carrying the keys an OVS agent or OVN controller binds by (`iface-id` = the port id,
 * `attached-mac`, `vm-uuid`, `iface-status`) and the plugin's own owner mark, which the
 * database keeps across restarts of the plugin. A port or device without that mark is never
 * touched. The tap also carries the Linux bridge plugin's interface alias, so a tap left behind
 * by a plug that failed half-way is known as this plugin's.
 *
 * A bridge that does not exist is created (datapath `netdev` by default: OVS's user-space
 * datapath, which needs no kernel module) and removed with its last port; a bridge the plugin
 * did not create is used, never reconfigured or removed.
 */
export class OvsPlugin implements VifPlugin {
  readonly name = 'ovs (a tap on an Open vSwitch bridge)';
  readonly vifTypes: readonly VifType[] = ['ovs'];
  private readonly ip: IpLink;
  private readonly ovs: OvsVsctl;
  private readonly datapathType: string;
  /** Ports joining or leaving one bridge run one after another: creating or removing a bridge is not atomic with its ports. */
  private readonly bridges = new KeyedQueue();

  constructor(options: OvsPluginOptions = {}) {
    this.ip = new IpLink(options.netns);
    this.ovs = new OvsVsctl(options.db, options.timeoutSeconds ?? 10);
    this.datapathType = options.datapathType ?? 'netdev';
  }

  async plug(vif: Vif, instance: PlugInstance, options: PlugCallOptions = {}): Promise<PluggedVif> {
    const signal = options.signal;
    const bridge = vif.network.bridge;
    if (bridge === undefined) throw invalid(vif.id, ['vif', 'network', 'bridge'], 'is required: the port goes on an Open vSwitch bridge');
    const device = vif.devname ?? defaultDeviceName('tap', vif.id);
    const mtu = vif.network.mtu;
    const result: PluggedVif = { vifId: vif.id, instanceUuid: instance.uuid, kind: 'tap', device, bridge, address: vif.address, ...(mtu === undefined ? {} : { mtu }) };

    let [view, links] = await Promise.all([this.ovs.view('plug', signal), this.ip.list('plug', signal)]);
    const mine = ownedInterfaces(view).find((i) => i.owner.vifId === vif.id);
    if (mine !== undefined) {
      if (mine.owner.instanceUuid !== instance.uuid) {
        throw new DriverError('CONFLICT', { op: 'plug', target: vif.id, detail: `the port is plugged for instance ${mine.owner.instanceUuid}` });
      }
      // Plugged already (a retry): the same device. A tap lost meanwhile (a host restart; OVS keeps its
      // database) is made again, and ovs-vswitchd picks it up by name.
      if (!links.some((l) => l.name === mine.name)) await this.ip.addTap('plug', mine.name, ownerMark(vif.id, instance.uuid, mine.owner.address!), mtu, undefined, signal);
      return { ...result, device: mine.name, bridge: mine.bridge ?? bridge };
    }
    // A tap this plugin made for this port whose OVS port never came (a plug that failed half-way): ours to remove.
    const leftover = links.find((l) => l.name === device && ownerOfDevice(l.alias)?.vifId === vif.id);
    if (leftover !== undefined) {
      await this.ip.remove('plug', leftover.name, signal);
      links = links.filter((l) => l !== leftover);
    }
    const devnamePath = vif.devname === undefined ? ['vif', 'id'] : ['vif', 'devname'];
    if (links.some((l) => l.name === device) || view.interfaces.some((i) => i.name === device)) {
      throw invalid(vif.id, devnamePath, `names the existing device ${device}, which this plugin did not create for this port`);
    }
    if (!view.bridges.some((b) => b.name === bridge) && links.some((l) => l.name === bridge)) {
      throw invalid(vif.id, ['vif', 'network', 'bridge'], `names the device ${bridge}, which is not an Open vSwitch bridge`);
    }

    return this.bridges.run(bridge, async () => {
      let bridgeCreated = false;
      try {
        // Absent before the lock: a plug of another port may have made it meanwhile, so look again.
        view = await this.ovs.view('plug', signal);
        if (!view.bridges.some((b) => b.name === bridge)) {
          await this.ovs.addBridge('plug', bridge, this.datapathType, { [OVS_OWNER_KEY]: BRIDGE_ALIAS }, signal);
          bridgeCreated = true;
        }
        const mark = ownerMark(vif.id, instance.uuid, vif.address);
        // IpLink removes the tap when configuring it fails; the OVS port is one transaction, so a failure
        // there leaves no port, and the tap is removed here.
        await this.ip.addTap('plug', device, mark, mtu, undefined, signal);
        try {
          await this.ovs.addPort('plug', bridge, device, {
            'iface-id': vif.id,
            'attached-mac': vif.address.toLowerCase(),
            'vm-uuid': instance.uuid,
            'iface-status': 'active',
            [OVS_OWNER_KEY]: mark,
          }, mtu, signal);
        } catch (error) {
          await this.ovs.removePort('plug', bridge, device).catch(() => undefined);
          await this.ip.remove('plug', device).catch(() => undefined);
          throw error;
        }
        return result;
      } catch (error) {
        // A failed plug leaves nothing: a bridge made for it goes too (without the caller's signal, which may be what failed).
        if (bridgeCreated) await this.removeBridgeIfUnused(bridge).catch(() => undefined);
        throw error;
      }
    });
  }

  async unplug(vif: Vif, instance: PlugInstance, options: PlugCallOptions = {}): Promise<void> {
    const signal = options.signal;
    const [view, links] = await Promise.all([this.ovs.view('unplug', signal), this.ip.list('unplug', signal)]);
    const isMine = (owner: Owner | undefined): boolean => owner?.vifId === vif.id && owner.instanceUuid === instance.uuid;
    const mine = ownedInterfaces(view).find((i) => isMine(i.owner));
    const strayTaps = links.filter((l) => isMine(ownerOfDevice(l.alias)) && l.name !== mine?.name);
    for (const tap of strayTaps) await this.ip.remove('unplug', tap.name, signal);
    if (mine === undefined) return; // Not plugged for this instance: nothing to do (PLUG_SEMANTICS).
    const removePort = async (): Promise<void> => {
      if (mine.bridge !== undefined) await this.ovs.removePort('unplug', mine.bridge, mine.name, signal);
      if (links.some((l) => l.name === mine.name && isMine(ownerOfDevice(l.alias)))) await this.ip.remove('unplug', mine.name, signal);
      if (mine.bridge !== undefined) await this.removeBridgeIfUnused(mine.bridge);
    };
    await (mine.bridge === undefined ? removePort() : this.bridges.run(mine.bridge, removePort));
  }

  async listPlugged(options: PlugCallOptions = {}): Promise<PluggedVif[]> {
    const view = await this.ovs.view('listPlugged', options.signal);
    return ownedInterfaces(view).map((i) => ({
      vifId: i.owner.vifId,
      instanceUuid: i.owner.instanceUuid,
      kind: 'tap',
      device: i.name,
      ...(i.bridge === undefined ? {} : { bridge: i.bridge }),
      address: i.owner.address!,
      ...(i.mtu === undefined ? {} : { mtu: i.mtu }),
    }));
  }

  /** Remove a bridge this plugin created once only its own internal port is left; never one it did not create. */
  private async removeBridgeIfUnused(bridge: string): Promise<void> {
    const view = await this.ovs.view('unplug');
    const row = view.bridges.find((b) => b.name === bridge);
    if (row === undefined || row.externalIds[OVS_OWNER_KEY] !== BRIDGE_ALIAS) return;
    if (row.ports.some((p) => p !== bridge)) return;
    await this.ovs.removeBridge('unplug', bridge);
  }
}

/** The owner mark: the same words as the Linux bridge plugin's interface alias (port, instance, guest MAC). */
const ownerMark = deviceAlias;

/** The interfaces this plugin created, with the port they were created for. */
function ownedInterfaces(view: OvsView): (OvsInterface & { owner: Owner })[] {
  return view.interfaces.flatMap((i) => {
    const owner = ownerOfDevice(i.externalIds[OVS_OWNER_KEY]);
    return owner === undefined ? [] : [{ ...i, owner }];
  });
}

const invalid = (vifId: string, path: string[], message: string): DriverError =>
  new DriverError('INVALID_INPUT', { op: 'plug', target: vifId, issues: [{ path, message }] });
