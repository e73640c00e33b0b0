/**
 * Choosing and reserving a node for a spawn. A node fits a flavor as Placement would decide
 * it, with core's fit (fitsNode / assertFits) of the flavor's expectedUsage against the node's
 * inventory exactly as getInventory reports it (one unit of its custom class, nothing else),
 * and the flavor's required traits must be among the node's traits. So a Nova bare-metal flavor
 * (resources:CUSTOM_X=1, VCPU/MEMORY_MB/DISK_GB zeroed) fits the nodes of class X and no other.
 */
import { DriverError, assertFits, expectedUsage, fitsNode, type InstanceSpec, type NodeInventory } from '@nova-common/core';
import { IronicApiError } from '../client/client.js';
import { STATE_FIELDS, type IronicNode } from '../client/types.js';
import { toContractError } from '../mapping/errors.js';
import { checkNodeIdent } from '../mapping/ids.js';
import type { ImageDetails } from '../mapping/image-source.js';
import { releasePatch, requiredTraits, reservePatch } from '../mapping/instance-info.js';
import { nodeInventoryOf } from '../mapping/inventory.js';
import { nodeAvailability } from '../mapping/state.js';
import { withContractErrors, type IronicContext } from './context.js';
import { recoverFreeNodes, recoveryPlan } from './node-recovery.js';

const op = 'spawn';
// instance_info: an operator's keys on a free node, kept by the reservation and recorded.
const CANDIDATE_FIELDS = [...STATE_FIELDS, 'resource_class', 'traits', 'conductor_group', 'owner', 'instance_info'];

/** What a spawn asks of a node: its Placement usage and its required traits. */
interface Demand {
  usage: Record<string, number>;
  traits: string[];
}

function demandOf(spec: InstanceSpec): Demand {
  return { usage: expectedUsage(spec.flavor), traits: requiredTraits(spec.flavor) };
}

/** A node that offers nothing (no resource class) takes nothing, even a flavor that asks for nothing. */
const offersSomething = (inv: NodeInventory) => Object.keys(inv.resources).length > 0;
const missingTraits = (inv: NodeInventory, d: Demand) => d.traits.filter((t) => !inv.traits.includes(t));

/**
 * Reserve a node; when that fails for a node reason, first make sure the uuid is not an
 * existing instance (INSTANCE_EXISTS comes before node errors). The check costs a request on
 * the failure path only: on success Ironic's unique instance_uuid already answered it.
 */
export async function reserve(ctx: IronicContext, spec: InstanceSpec, details: ImageDetails, signal?: AbortSignal): Promise<IronicNode> {
  try {
    return await reserveNode(ctx, spec, details, signal);
  } catch (e) {
    if (e instanceof DriverError && ['NODE_NOT_FOUND', 'NODE_UNAVAILABLE', 'INSUFFICIENT_RESOURCES'].includes(e.code)) {
      const taken = await ctx.client.nodes
        .list({ fields: ['uuid', 'instance_uuid'], query: { instance_uuid: spec.uuid }, limit: 2, signal })
        .catch(() => []);
      if (taken.length > 0) throw new DriverError('INSTANCE_EXISTS', { op, target: spec.uuid });
    }
    throw e;
  }
}

/**
 * Pick (or take the requested) node and reserve it with one PATCH. A 409 on a picked node
 * means another host took it: the next candidate is tried (a different node, not a repeat of
 * the request; the client already retried a 409 NodeLocked).
 */
async function reserveNode(ctx: IronicContext, spec: InstanceSpec, details: ImageDetails, signal?: AbortSignal): Promise<IronicNode> {
  const candidates = await withContractErrors({ op, target: spec.uuid }, () => findCandidates(ctx, spec, signal));
  for (const candidate of candidates) {
    if (ctx.claiming.has(candidate.uuid)) continue;
    ctx.claiming.add(candidate.uuid);
    try {
      // A teardown of this process is still writing the operator's keys back on it: let it finish
      // and read them, so that the record keeps them.
      const restoring = ctx.restoring.get(candidate.uuid);
      const before = restoring ? await restoring.then(() => ctx.client.nodes.get(candidate.uuid, ['instance_info'], { signal })) : candidate;
      const node = await ctx.client.nodes.patch(candidate.uuid, reservePatch(spec, { ...ctx.config, holder: ctx.holder }, details, before), { signal });
      if (node.provision_state !== 'available' || node.maintenance || node.target_provision_state) {
        // It changed between the listing and the reservation: give it back.
        await ctx.client.nodes.patch(node.uuid, releasePatch(node)).catch(() => undefined);
        if (spec.node !== undefined) throw new DriverError('NODE_UNAVAILABLE', { op, target: spec.node, detail: `node is ${node.provision_state}` });
        continue;
      }
      return node;
    } catch (e) {
      if (e instanceof IronicApiError && e.kind === 'conflict') {
        if (/instance .* is already associated|already associated with a node/i.test(e.detail) && !/node .* is associated/i.test(e.detail)) {
          throw new DriverError('INSTANCE_EXISTS', { op, target: spec.uuid, detail: e.detail, cause: e });
        }
        if (spec.node !== undefined) throw new DriverError('NODE_UNAVAILABLE', { op, target: spec.node, detail: e.detail, cause: e });
        continue; // another host took it: try the next one
      }
      throw toContractError(e, { op, target: spec.uuid, notFound: 'NODE_NOT_FOUND' });
    } finally {
      ctx.claiming.delete(candidate.uuid);
    }
  }
  if (spec.node !== undefined) throw new DriverError('NODE_UNAVAILABLE', { op, target: spec.node, detail: 'node is being reserved by another spawn' });
  throw new DriverError('INSUFFICIENT_RESOURCES', { op, target: spec.uuid, detail: 'no available node matches the flavor' });
}

/**
 * Nodes that could take the instance: the requested one, or every fitting available one in random
 * order. The same list call (every free node, not only the available ones) shows the nodes Ironic
 * left failed, whose recovery starts first (node-recovery.ts; they become available after cleaning).
 */
async function findCandidates(ctx: IronicContext, spec: InstanceSpec, signal?: AbortSignal): Promise<IronicNode[]> {
  const demand = demandOf(spec);
  if (spec.node !== undefined) return [await requestedNode(ctx, spec.node, demand, signal)];
  const nodes = await ctx.managedNodes(CANDIDATE_FIELDS, signal, { associated: false, maintenance: false });
  await recoverFreeNodes(ctx, nodes, signal);
  const free = nodes.filter((n) => {
    if (!nodeAvailability(n, false).available) return false;
    const inv = nodeInventoryOf(n, false);
    return offersSomething(inv) && fitsNode(demand.usage, inv) && missingTraits(inv, demand).length === 0;
  });
  for (let i = free.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [free[i], free[j]] = [free[j]!, free[i]!];
  }
  return free;
}

/** The node the spec names (uuid or name): NODE_NOT_FOUND, NODE_UNAVAILABLE or INSUFFICIENT_RESOURCES unless it can take the instance. */
async function requestedNode(ctx: IronicContext, ident: string, demand: Demand, signal?: AbortSignal): Promise<IronicNode> {
  checkNodeIdent(ident, op, ['spec', 'node']);
  let node = await getRequested(ctx, ident, signal);
  if (!ctx.matchesFilter(node)) throw new DriverError('NODE_NOT_FOUND', { op, target: ident, detail: 'not managed by this host' });
  if (recoveryPlan(node, ctx.nodeRecovery.parked) && (await recoverFreeNodes(ctx, [node], signal)).length > 0) {
    node = await getRequested(ctx, node.uuid, signal); // recovering: cleaning (unavailable) until Ironic is done
  }
  const availability = nodeAvailability(node, false);
  if (!availability.available) throw new DriverError('NODE_UNAVAILABLE', { op, target: ident, detail: availability.reason });
  const inv = nodeInventoryOf(node, false);
  if (!offersSomething(inv)) throw new DriverError('INSUFFICIENT_RESOURCES', { op, target: ident, detail: 'the node has no resource class' });
  assertFits(demand.usage, inv, { op, target: ident });
  const missing = missingTraits(inv, demand);
  if (missing.length > 0) throw new DriverError('INSUFFICIENT_RESOURCES', { op, target: ident, detail: `the node lacks the required traits ${missing.join(', ')}` });
  return node;
}

async function getRequested(ctx: IronicContext, ident: string, signal?: AbortSignal): Promise<IronicNode> {
  try {
    return await ctx.client.nodes.get(ident, CANDIDATE_FIELDS, { signal });
  } catch (e) {
    if (e instanceof IronicApiError && (e.kind === 'not-found' || e.kind === 'bad-request')) {
      throw new DriverError('NODE_NOT_FOUND', { op, target: ident, detail: `node: ${e.detail}`, cause: e });
    }
    throw e;
  }
}
