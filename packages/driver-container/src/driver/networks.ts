import { DriverError, type Vif } from '@nova-common/core';
import { EngineHttpError } from '../client/errors.js';
import type { ContainerInspect, EndpointSettings, NetworkInspect } from '../client/types.js';
import { isNetworkInUse } from '../mapping/engine-kind.js';
import { isNotFound } from '../mapping/errors.js';
import { isOwned, networkLabels } from '../mapping/labels.js';
import { endpointFor, networkName, vifOfEndpoint } from '../mapping/networks.js';
import type { EngineContext } from './context.js';
import { ownedContainers, type Located } from './instances.js';

/**
 * Engine networks: one internal bridge network per contract network id, shared by every
 * instance with a VIF on it. Creating, connecting to, disconnecting from and removing one
 * network never overlap (ctx.networkQueue, keyed by the network's name), so a network is never
 * removed between another instance's check that it exists and its connect. A network is removed
 * only when no container of the driver (an instance, or a spawn's or replacement's temporary one,
 * running or not) and no container of anyone else has an endpoint on it.
 */

/**
 * Make sure an owned internal network exists under `name`, and answer the id to connect to.
 * The engine's duplicate-name check is best effort: two driver processes creating one network
 * at once can both succeed, after which the name is ambiguous. So after creating, and whenever
 * the name is ambiguous, the owned networks of that name are listed and the one created first
 * (by the engine's creation time, then id) is used by every process; the others are removed
 * while nothing is on them.
 */
export async function ensureNetwork(ctx: EngineContext, name: string, networkId: string, signal?: AbortSignal): Promise<string> {
  try {
    const n = await ctx.client.inspectNetwork(name, signal);
    if (!isOwned(ctx.naming, n.Labels, 'network')) {
      throw new DriverError('INTERNAL', { detail: `network ${name} exists but was not made by this driver` });
    }
    return n.Id;
  } catch (err) {
    if (isAmbiguous(err)) return settleDuplicates(ctx, name, signal);
    if (!isNotFound(err)) throw err;
  }
  try {
    await ctx.client.createNetwork(name, networkLabels(ctx.naming, networkId), signal);
  } catch (err) {
    // Created meanwhile by another driver process (409): fine.
    if (!(err instanceof EngineHttpError && (err.status === 409 || /already exists/.test(err.engineMessage)))) throw err;
  }
  return settleDuplicates(ctx, name, signal);
}

/** The first-created owned network named `name` (the one every process uses); later duplicates go when unused. */
async function settleDuplicates(ctx: EngineContext, name: string, signal?: AbortSignal): Promise<string> {
  // The engine's name filter matches parts of names: keep exact matches only.
  const same = (await ctx.client.listNetworks({ name: [name] }, signal)).filter((n) => n.Name === name);
  if (same.some((n) => !isOwned(ctx.naming, n.Labels, 'network'))) {
    throw new DriverError('INTERNAL', { detail: `network ${name} exists but was not made by this driver` });
  }
  if (same.length === 0) throw new DriverError('CONFLICT', { detail: `network ${name} was removed while being made; retry` });
  const [winner, ...later] = [...same].sort((a, b) => (a.Created ?? '').localeCompare(b.Created ?? '') || a.Id.localeCompare(b.Id));
  for (const n of later) {
    try {
      if (!(await networkInUse(ctx, n, signal))) await ctx.client.removeNetwork(n.Id, signal);
    } catch (err) {
      if (!(isNotFound(err) || (err instanceof EngineHttpError && isNetworkInUse(err.status, err.engineMessage)))) throw err;
    }
  }
  return winner!.Id;
}

/** The network named `name`; when duplicates made the name ambiguous, the one every process uses. */
async function inspectSettled(ctx: EngineContext, name: string, signal?: AbortSignal): Promise<NetworkInspect> {
  try {
    return await ctx.client.inspectNetwork(name, signal);
  } catch (err) {
    if (!isAmbiguous(err)) throw err;
    return ctx.client.inspectNetwork(await settleDuplicates(ctx, name, signal), signal);
  }
}

const isAmbiguous = (err: unknown): boolean => err instanceof EngineHttpError && /ambiguous/i.test(err.engineMessage);

/**
 * Connect a VIF: its network (created on demand), an endpoint carrying its id and MAC. Returns the network name.
 * The name goes into `touched` before the network is made, so a caller whose connect failed can collect it.
 */
export async function connectVif(
  ctx: EngineContext,
  container: Pick<ContainerInspect, 'Id' | 'NetworkSettings'>,
  vif: Vif,
  signal?: AbortSignal,
  touched?: string[],
): Promise<string> {
  const attached = new Set(Object.keys(container.NetworkSettings.Networks ?? {}));
  let name = networkName(ctx.naming, vif.network.id);
  // Engines allow one endpoint per network and container: a second VIF on the same network gets its own.
  if (attached.has(name)) name = networkName(ctx.naming, vif.network.id, vif.id.slice(0, 8).toLowerCase());
  touched?.push(name);
  await ctx.networkQueue.run(name, async () => {
    const id = await ensureNetwork(ctx, name, vif.network.id, signal);
    await ctx.client.connectNetwork(id, container.Id, endpointFor(ctx.naming, vif, ctx.macHonoured), signal);
  });
  return name;
}

/** Reconnect a recreated container to a network its predecessor had a VIF endpoint on, with the same VIF. */
export async function reconnectEndpoint(ctx: EngineContext, network: string, containerId: string, ep: EndpointSettings, signal?: AbortSignal): Promise<void> {
  const vif = vifOfEndpoint(ctx.naming, ep);
  const copy: EndpointSettings = { Aliases: (ep.Aliases ?? []).filter((a) => a.startsWith(`${ctx.config.namePrefix}-`)) };
  if (vif && ctx.macHonoured) copy.MacAddress = vif.address;
  await ctx.networkQueue.run(network, () => ctx.client.connectNetwork(network, containerId, copy, signal));
}

export async function disconnect(ctx: EngineContext, network: string, containerId: string, signal?: AbortSignal): Promise<void> {
  await ctx.networkQueue.run(network, () => ctx.client.disconnectNetwork(network, containerId, signal));
}

/** Remove owned networks (never the base one) that no container uses any more. */
export async function collectNetworks(ctx: EngineContext, names: readonly string[], signal?: AbortSignal): Promise<void> {
  for (const name of names) {
    if (name === ctx.baseNetwork) continue;
    await ctx.networkQueue.run(name, async () => {
      try {
        const n = await inspectSettled(ctx, name, signal);
        if (!isOwned(ctx.naming, n.Labels, 'network')) return;
        if (await networkInUse(ctx, n, signal)) return;
        await ctx.client.removeNetwork(n.Id, signal);
      } catch (err) {
        if (isNotFound(err) || (err instanceof EngineHttpError && isNetworkInUse(err.status, err.engineMessage))) return;
        throw err;
      }
    });
  }
}

/**
 * Whether any container has an endpoint on network `n`. The network's own view lists running containers
 * only, and the engine's `network` filter misses a container connected while it was never started
 * (dockerd records that endpoint under the network's name with no NetworkID until the first start); a
 * stopped or never-started container still holds the endpoint and would fail to start without the
 * network. So the driver's own containers are read one by one (by name and by id), and the filter,
 * by id and by name, covers everyone else's.
 */
async function networkInUse(ctx: EngineContext, n: NetworkInspect, signal?: AbortSignal): Promise<boolean> {
  if (Object.keys(n.Containers ?? {}).length > 0) return true;
  const onIt = (networks: Record<string, EndpointSettings> | null | undefined): boolean =>
    Object.entries(networks ?? {}).some(([name, ep]) => name === n.Name || ep?.NetworkID === n.Id);
  for (const c of await ownedContainers(ctx, signal)) {
    let networks = c.NetworkSettings?.Networks;
    if (networks === undefined) {
      try {
        networks = (await ctx.client.inspectContainer(c.Id, signal)).NetworkSettings.Networks;
      } catch (err) {
        if (isNotFound(err)) continue;
        throw err;
      }
    }
    if (onIt(networks)) return true;
  }
  return (await ctx.client.listContainers({ network: [n.Id, n.Name] }, signal)).length > 0;
}

/**
 * A network change on an instance. Engines that break a paused container's record on a network change
 * (podman) get it unpaused for the change and paused again, whether the change worked or not.
 */
export async function aroundNetworkChange<T>(ctx: EngineContext, found: Located, signal: AbortSignal | undefined, change: () => Promise<T>): Promise<T> {
  if (found.power !== 'PAUSED' || !ctx.differences.unpauseAroundNetworkChange) return change();
  await ctx.client.unpauseContainer(found.inspect.Id, signal);
  try {
    return await change();
  } finally {
    await ctx.client.pauseContainer(found.inspect.Id, signal);
  }
}
