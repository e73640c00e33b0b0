/**
 * The host's view: its nodes, their inventory, its instances, one instance's info and console.
 * Each is one filtered, paginated list call (or one call for the instance): no node cache.
 */
import type { AttachedInterface, ConsoleOutput, HostInventory, InstanceInfo, InstanceSummary, NodeInfo } from '@nova-common/core';
import { INVENTORY_FIELDS, STATE_FIELDS, type IronicNode } from '../client/types.js';
import { isOurs, readOwnerRecord } from '../mapping/instance-info.js';
import { nodeInventoryOf } from '../mapping/inventory.js';
import { modeOfNode, nodeInfoOf, powerStateOfNode } from '../mapping/state.js';
import { withContractErrors, type IronicContext } from './context.js';

const byUuid = (a: { uuid: string }, b: { uuid: string }) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0);
const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export async function listNodes(ctx: IronicContext, signal?: AbortSignal): Promise<NodeInfo[]> {
  const nodes = await withContractErrors({ op: 'listNodes' }, () => ctx.managedNodes([...STATE_FIELDS, 'resource_class', 'instance_info'], signal));
  return nodes.map((n) => nodeInfoOf(n, isOurs(n, ctx.config.hostId)));
}

export async function getInventory(ctx: IronicContext, signal?: AbortSignal): Promise<HostInventory> {
  const nodes = await withContractErrors({ op: 'getInventory' }, () => ctx.managedNodes(INVENTORY_FIELDS, signal));
  return { nodes: nodes.map((n) => nodeInventoryOf(n, isOurs(n, ctx.config.hostId))) };
}

export async function listInstances(ctx: IronicContext, signal?: AbortSignal): Promise<InstanceSummary[]> {
  const nodes = await withContractErrors({ op: 'listInstances' }, () =>
    ctx.managedNodes(['uuid', 'instance_uuid', 'instance_info'], signal, { associated: true }),
  );
  const out: InstanceSummary[] = [];
  for (const n of nodes) {
    const rec = readOwnerRecord(n);
    if (!n.instance_uuid || rec?.owner !== ctx.config.hostId) continue;
    out.push({ uuid: n.instance_uuid, name: rec.name, node: n.uuid, metadata: { ...rec.metadata } });
  }
  return out.sort(byUuid);
}

export async function getInfo(ctx: IronicContext, uuid: string, signal?: AbortSignal): Promise<InstanceInfo> {
  const { node } = await ctx.enter('getInfo', 'getInfo', uuid, signal);
  return infoOf(uuid, node);
}

function infoOf(uuid: string, node: IronicNode): InstanceInfo {
  const rec = readOwnerRecord(node)!;
  const interfaces: AttachedInterface[] = rec.vifs.map((v) => ({ id: v.id, address: v.address })).sort(byId);
  return {
    uuid,
    name: rec.name,
    powerState: powerStateOfNode(node),
    mode: modeOfNode(node),
    node: node.uuid,
    metadata: { ...rec.metadata },
    volumes: [],
    interfaces,
  };
}

/** Ironic has an interactive console, not a log: the output describes it (enabled, type, URL). */
export async function getConsoleOutput(ctx: IronicContext, uuid: string, signal?: AbortSignal): Promise<ConsoleOutput> {
  const op = 'getConsoleOutput';
  const { node, state } = await ctx.enter(op, 'getConsoleOutput', uuid, signal);
  return withContractErrors({ op, target: uuid, currentState: state }, async () => {
    const c = await ctx.client.states.console(node.uuid, { signal });
    const lines = [`Ironic node ${node.uuid} console: ${c.console_enabled ? 'enabled' : 'disabled'}`];
    if (c.console_info?.type) lines.push(`type: ${c.console_info.type}`);
    if (c.console_info?.url) lines.push(`url: ${c.console_info.url}`);
    return { output: `${lines.join('\n')}\n`, truncated: false };
  });
}
