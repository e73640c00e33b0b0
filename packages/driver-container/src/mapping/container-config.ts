import { DriverError } from '@nova-common/core';
import type { ContainerCreateBody } from '../client/types.js';
import { instanceLabels, type InstanceLabels, type Naming } from './labels.js';
import { mountsOf } from './mounts.js';

export { pidsLimitOf } from './extra-specs.js';

const MIB = 1024 * 1024;
/** Engines refuse memory limits under 6 MiB. */
const MIN_MEMORY_MB = 6;

export interface ContainerConfigInput {
  naming: Naming;
  /** The local image reference to run. */
  imageRef: string;
  labels: InstanceLabels;
  /**
   * The driver's base network (every instance starts on it), or `none` when a VIF plugin wires the
   * instance's ports: network mode none (only lo; the driver moves the plugged devices in after each start).
   */
  baseNetwork: string | 'none';
  /** CPUs the engine host has: NanoCpus is capped there (a flavor may overcommit). */
  hostCpus: number;
  pidsLimit: number;
  init: boolean;
  stopTimeoutSeconds: number;
}

/**
 * InstanceSpec (already validated) -> the engine's container create body.
 *
 * Flavor: vcpus -> NanoCpus (CPU quota; capped at the host's CPUs, since a flavor may
 * overcommit), memoryMb -> Memory (at least 6 MiB), swapMb -> MemorySwap = Memory + swap,
 * pids limit -> PidsLimit. Disk sizes are accounted in inventory, not enforced (overlay2
 * quotas need xfs with pquota).
 *
 * Safety, whatever the spec says: never privileged, never the host's network, PID or IPC
 * namespace, no new privileges, no restart policy (power state is the driver's), only the
 * allowlisted bind mounts and devices resolved beforehand, the engine's init as PID 1.
 */
export function buildContainerConfig(input: ContainerConfigInput): ContainerCreateBody {
  const { flavor } = input.labels;
  const memoryMb = Math.max(flavor.memoryMb, MIN_MEMORY_MB);
  const memory = memoryMb * MIB;
  const swap = flavor.swapMb > 0 ? flavor.swapMb * MIB : 0;
  const cpus = Math.min(flavor.vcpus, Math.max(1, input.hostCpus));
  const { mounts, devices } = mountsOf(input.labels.volumes);
  return {
    Image: input.imageRef,
    Labels: instanceLabels(input.naming, input.labels),
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    StopTimeout: input.stopTimeoutSeconds,
    HostConfig: {
      NanoCpus: cpus * 1_000_000_000,
      Memory: memory,
      MemorySwap: memory + swap,
      PidsLimit: input.pidsLimit,
      Privileged: false,
      NetworkMode: input.baseNetwork,
      IpcMode: 'private',
      Init: input.init,
      SecurityOpt: ['no-new-privileges'],
      Mounts: mounts,
      Devices: devices,
      RestartPolicy: { Name: 'no' },
      AutoRemove: false,
      PublishAllPorts: false,
    },
    ...(input.baseNetwork === 'none' ? {} : { NetworkingConfig: { EndpointsConfig: { [input.baseNetwork]: {} } } }),
  };
}

/** Safety net run on every body before it is sent: refuses anything that breaks the rules above. */
export function assertSafe(body: ContainerCreateBody, allowedSources: ReadonlySet<string>): void {
  const hc = body.HostConfig as unknown as Record<string, unknown>;
  const bad = (what: string): never => {
    throw new DriverError('INTERNAL', { op: 'spawn', detail: `refusing an unsafe container config: ${what}` });
  };
  if (hc['Privileged'] !== false) bad('privileged');
  const netMode = String(hc['NetworkMode'] ?? '');
  if (netMode === 'host' || netMode.startsWith('container:') || netMode === 'default' || netMode === 'bridge') bad(`network mode ${netMode}`);
  for (const key of ['PidMode', 'UTSMode', 'UsernsMode', 'CgroupnsMode']) {
    if (String(hc[key] ?? '') === 'host') bad(`${key} host`);
  }
  if (String(hc['IpcMode'] ?? '') === 'host') bad('IpcMode host');
  if (Array.isArray(hc['Binds']) && hc['Binds'].length > 0) bad('Binds');
  if (Array.isArray(hc['CapAdd']) && hc['CapAdd'].length > 0) bad('CapAdd');
  for (const m of body.HostConfig.Mounts ?? []) if (!allowedSources.has(m.Source)) bad(`mount of ${m.Source}`);
  for (const d of body.HostConfig.Devices ?? []) if (!allowedSources.has(d.PathOnHost)) bad(`device ${d.PathOnHost}`);
}
