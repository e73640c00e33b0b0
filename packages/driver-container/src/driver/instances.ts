import {
  DriverError,
  enforceCell,
  type CellDecision,
  type ConsoleOutput,
  type InstanceInfo,
  type InstanceSummary,
  type OutcomeContext,
  type PowerState,
  type TableOperation,
} from '@nova-common/core';
import type { ContainerInspect, ContainerSummary } from '../client/types.js';
import { demultiplex, tailOutput } from '../mapping/console.js';
import { isNotFound } from '../mapping/errors.js';
import { containerName, ownerFilter, phaseOfName, readInstanceLabels, type InstanceLabels, type StoredVolume } from '../mapping/labels.js';
import { mountedTargets } from '../mapping/mounts.js';
import { vifOfEndpoint } from '../mapping/networks.js';
import { needsStopRecord, powerStateOf } from '../mapping/state.js';
import type { EngineContext } from './context.js';
import type { VifEntry } from './vif-records.js';

/** An instance as the engine reports it: its container, its labels read back, its power state. */
export interface Located {
  inspect: ContainerInspect;
  labels: InstanceLabels;
  power: PowerState;
  /** The VIFs the VIF plugin wires (driver/vif-records.ts); empty without a plugin. */
  wired: VifEntry[];
}

/**
 * Whether two ids name the same volume or VIF. Ids inside a VolumeAttachment or a Vif reach the
 * driver as the caller spelled them (only the uuid arguments of a call are canonical), so an id
 * recorded from one and an id given as an argument are compared without regard to letter case.
 */
export function sameId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** This driver's instance containers, finished or not (filtered server-side by the owner labels). */
export async function ownedContainers(ctx: EngineContext, signal?: AbortSignal): Promise<ContainerSummary[]> {
  return ctx.client.listContainers({ label: ownerFilter(ctx.naming, 'instance') }, signal);
}

/** The instance container of a uuid, when it exists and is owned. */
export async function locate(ctx: EngineContext, uuid: string, signal?: AbortSignal): Promise<Located | undefined> {
  let inspect: ContainerInspect;
  try {
    inspect = await ctx.client.inspectContainer(containerName(ctx.naming, uuid), signal);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  const labels = readInstanceLabels(ctx.naming, inspect.Config.Labels);
  if (!labels || labels.uuid !== uuid) return undefined;
  const wired = ctx.vifPlugin === undefined ? [] : await ctx.vifRecords.get(uuid);
  return { inspect, labels, power: await powerOf(ctx, inspect), wired };
}

/** The power state of a container: the engine's state, and for a run that ended badly whether the driver asked it to stop. */
export async function powerOf(ctx: EngineContext, inspect: ContainerInspect): Promise<PowerState> {
  const carriedCrash = inspect.Config.Labels?.[ctx.keys.crashed] === 'true';
  return powerStateOf(inspect.State, needsStopRecord(inspect.State, carriedCrash) && (await ctx.stops.asked(inspect)), carriedCrash);
}

/**
 * The instance an operation acts on, and the semantics table's decision for its state: the
 * table's exact error is thrown (INSTANCE_NOT_FOUND, INVALID_STATE, or the device precondition
 * `device` reads from the instance). For operations on existing instances only.
 */
export async function instanceFor(
  ctx: EngineContext,
  where: { op: string; column: TableOperation; uuid: string },
  signal: AbortSignal | undefined,
  device?: (found: Located) => OutcomeContext,
): Promise<{ found: Located; cell: CellDecision }> {
  await ctx.removals.flush(signal);
  const found = await locate(ctx, where.uuid, signal);
  const cell = enforceCell(found?.power ?? 'ABSENT', where.column, { op: where.op, uuid: where.uuid, ctx: found && device?.(found) });
  // The table allows no operation but spawn and destroy on an absent instance, and those do not come here.
  if (!found) throw new DriverError('INSTANCE_NOT_FOUND', { op: where.op, target: where.uuid });
  return { found, cell };
}

/** The volumes attached: recorded in the labels and really mounted (the mounts are the truth; the labels add ids and names). */
export function volumesOf(found: Located): StoredVolume[] {
  const mounted = mountedTargets(found.inspect);
  return found.labels.volumes.filter((v) => mounted.has(v.target));
}

/** The VIFs attached: endpoints carrying a VIF, on any network but the base one, and the VIFs the VIF plugin wires. */
export function interfacesOf(ctx: EngineContext, inspect: ContainerInspect, wired: readonly VifEntry[] = []): { id: string; address: string }[] {
  const out: { id: string; address: string }[] = wired.map((e) => ({ id: e.vif.id, address: e.vif.address }));
  for (const [name, ep] of Object.entries(inspect.NetworkSettings.Networks ?? {})) {
    if (name === ctx.baseNetwork) continue;
    const vif = vifOfEndpoint(ctx.naming, ep);
    if (vif) out.push(vif);
  }
  return out;
}

const byKey =
  <T>(key: (x: T) => string) =>
  (a: T, b: T): number =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

function infoOf(ctx: EngineContext, found: Located): InstanceInfo {
  const volumes = volumesOf(found)
    .map((v) => ({
      volumeId: v.volumeId,
      ...(v.deviceName !== undefined ? { deviceName: v.deviceName } : {}),
      ...(v.sizeGb !== undefined ? { sizeGb: v.sizeGb } : {}),
    }))
    .sort(byKey((v) => v.volumeId));
  return {
    uuid: found.labels.uuid,
    name: found.labels.name,
    powerState: found.power,
    mode: 'normal',
    node: found.labels.node || ctx.host.node,
    metadata: found.labels.metadata,
    volumes,
    interfaces: interfacesOf(ctx, found.inspect, found.wired).sort(byKey((i) => i.id)),
  };
}

export async function listInstances(ctx: EngineContext, signal?: AbortSignal): Promise<InstanceSummary[]> {
  await ctx.removals.flush(signal);
  const out: InstanceSummary[] = [];
  for (const c of await ownedContainers(ctx, signal)) {
    const phase = phaseOfName(ctx.naming, c.Names[0] ?? '');
    const labels = readInstanceLabels(ctx.naming, c.Labels);
    if (phase?.phase !== 'instance' || !labels) continue;
    out.push({ uuid: labels.uuid, name: labels.name, node: labels.node, metadata: labels.metadata });
  }
  return out;
}

export async function getInfo(ctx: EngineContext, uuid: string, signal?: AbortSignal): Promise<InstanceInfo> {
  const { found } = await instanceFor(ctx, { op: 'getInfo', column: 'getInfo', uuid }, signal);
  return infoOf(ctx, found);
}

/** The container's logs, both streams, the tail the configuration keeps. */
export async function getConsoleOutput(ctx: EngineContext, uuid: string, signal?: AbortSignal): Promise<ConsoleOutput> {
  const { found } = await instanceFor(ctx, { op: 'getConsoleOutput', column: 'getConsoleOutput', uuid }, signal);
  const lines = ctx.config.consoleLogLines;
  // One line more than kept: its presence says the log was longer.
  const text = demultiplex(await ctx.client.containerLogs(found.inspect.Id, lines + 1, signal));
  const count = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  return tailOutput(text, lines, ctx.config.consoleLogBytes, count > lines);
}
