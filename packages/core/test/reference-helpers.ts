import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { FlavorInput } from '../src/schemas/flavor.js';
import type { InstanceSpec } from '../src/schemas/instance-spec.js';
import type { VolumeAttachment } from '../src/schemas/block-device-info.js';
import type { Vif } from '../src/schemas/network-info.js';
import type { LifecycleEvent } from '../src/schemas/outputs.js';
import { isDriverError } from '../src/errors/driver-error.js';
import type { ErrorCode } from '../src/errors/codes.js';
import type { SemanticState, TableOperation } from '../src/semantics/states.js';
import type { ReferenceDriver } from '../src/reference/driver.js';

export const IMAGE = { id: 'cirros-0.6', name: 'cirros', diskFormat: 'qcow2', containerFormat: 'bare', minDiskGb: 0, minRamMb: 0, properties: {} } as const;
export const IMAGE_2 = { ...IMAGE, id: 'fedora-40', name: 'fedora' } as const;

export function flavor(f: Partial<FlavorInput> = {}): InstanceSpec['flavor'] {
  return { id: 'm1.small', name: 'm1.small', vcpus: 1, memoryMb: 512, rootGb: 1, ephemeralGb: 0, swapMb: 0, extraSpecs: {}, ...f };
}

/** A bare-metal flavor as Nova writes them: one unit of the node class, nothing else. */
export const BAREMETAL_FLAVOR = flavor({
  id: 'bm',
  name: 'bm',
  extraSpecs: { 'resources:CUSTOM_REFERENCE_NODE': '1', 'resources:VCPU': '0', 'resources:MEMORY_MB': '0', 'resources:DISK_GB': '0' },
});

export function volume(volumeId: string = randomUUID(), sizeGb?: number): VolumeAttachment {
  return {
    volumeId,
    deleteOnTermination: false,
    connectionInfo: { driverVolumeType: 'file', path: `/var/lib/volumes/${volumeId}` },
    ...(sizeGb !== undefined ? { sizeGb } : {}),
  };
}

export function vif(id: string = randomUUID(), n = 1): Vif {
  const hex = (n & 0xff).toString(16).padStart(2, '0');
  return {
    id,
    address: `fa:16:3e:00:00:${hex}`,
    network: { id: 'net-1', subnets: [] },
    type: 'bridge',
    vnicType: 'normal',
    profile: {},
    details: {},
    active: true,
  };
}

export function spec(s: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    uuid: randomUUID(),
    name: 'vm',
    flavor: flavor(),
    image: { ...IMAGE, properties: {} },
    metadata: {},
    networkInfo: [],
    blockDeviceInfo: { ephemerals: [], volumes: [] },
    powerOn: true,
    ...s,
  };
}

/**
 * Drive a new instance into `state` through operations. NOSTATE has no operation leading
 * to it (only the backend losing track of a machine does), so the simulateNoState hook is
 * used; CRASHED likewise uses simulateCrash. ABSENT: a uuid never spawned.
 */
export async function driveTo(driver: ReferenceDriver, state: SemanticState, s: InstanceSpec = spec()): Promise<string> {
  if (state === 'ABSENT') return s.uuid;
  await driver.spawn({ ...s, powerOn: state !== 'SHUTDOWN' });
  switch (state) {
    case 'PAUSED':
      await driver.pause(s.uuid);
      break;
    case 'SUSPENDED':
      await driver.suspend(s.uuid);
      break;
    case 'CRASHED':
      driver.simulateCrash(s.uuid);
      break;
    case 'NOSTATE':
      driver.simulateNoState(s.uuid);
      break;
    case 'RESCUE':
      await driver.rescue(s.uuid, {});
      break;
    default:
      break;
  }
  return s.uuid;
}

/** The semantic state the driver reports for `uuid` (ABSENT when getInfo says INSTANCE_NOT_FOUND). */
export async function observedState(driver: ReferenceDriver, uuid: string): Promise<SemanticState> {
  try {
    const info = await driver.getInfo(uuid);
    return info.mode === 'rescue' ? 'RESCUE' : info.powerState;
  } catch (e) {
    if (isDriverError(e) && e.code === 'INSTANCE_NOT_FOUND') return 'ABSENT';
    throw e;
  }
}

/** Device ids each instance was spawned with, so table operations that need one find it attached. */
export interface DeviceFixture {
  attachedVolume: string;
  attachedVif: string;
}

/**
 * Call table operation `op` on `uuid` with arguments that satisfy its device precondition
 * (attach a new device, detach/extend an attached one).
 */
export async function callTableOp(
  driver: ReferenceDriver,
  op: TableOperation,
  uuid: string,
  devices: DeviceFixture,
  respawn: InstanceSpec,
): Promise<unknown> {
  switch (op) {
    case 'spawn':
      return driver.spawn({ ...respawn, uuid });
    case 'destroy':
      return driver.destroy(uuid);
    case 'getInfo':
      return driver.getInfo(uuid);
    case 'powerOff':
      return driver.powerOff(uuid);
    case 'powerOn':
      return driver.powerOn(uuid);
    case 'rebootSoft':
      return driver.reboot(uuid, 'SOFT');
    case 'rebootHard':
      return driver.reboot(uuid, 'HARD');
    case 'pause':
      return driver.pause(uuid);
    case 'unpause':
      return driver.unpause(uuid);
    case 'suspend':
      return driver.suspend(uuid);
    case 'resume':
      return driver.resume(uuid);
    case 'rescue':
      return driver.rescue(uuid, {});
    case 'unrescue':
      return driver.unrescue(uuid);
    case 'rebuild':
      return driver.rebuild(uuid, { image: { ...IMAGE_2, properties: {} }, preserveEphemeral: false });
    case 'snapshot':
      return driver.snapshot(uuid, { name: 'snap' });
    case 'attachVolume':
      return driver.attachVolume(uuid, volume());
    case 'detachVolume':
      return driver.detachVolume(uuid, devices.attachedVolume);
    case 'extendVolume':
      return driver.extendVolume(uuid, devices.attachedVolume, 20);
    case 'attachInterface':
      return driver.attachInterface(uuid, vif(randomUUID(), 9));
    case 'detachInterface':
      return driver.detachInterface(uuid, devices.attachedVif);
    case 'getConsoleOutput':
      return driver.getConsoleOutput(uuid);
    case 'restoreStateRunning':
      return driver.restoreState(uuid, 'RUNNING');
    case 'restoreStateShutdown':
      return driver.restoreState(uuid, 'SHUTDOWN');
    case 'restoreStatePaused':
      return driver.restoreState(uuid, 'PAUSED');
    case 'restoreStateSuspended':
      return driver.restoreState(uuid, 'SUSPENDED');
  }
}

/** Run `call` and return the DriverError code it rejected with, or null when it resolved. */
export async function outcomeOf(call: () => Promise<unknown>): Promise<ErrorCode | null> {
  try {
    await call();
    return null;
  } catch (e) {
    expect(isDriverError(e), `rejected with a DriverError, got ${String(e)}`).toBe(true);
    return (e as { code: ErrorCode }).code;
  }
}

export async function expectCode(call: () => Promise<unknown> | unknown, code: ErrorCode): Promise<void> {
  let caught: unknown;
  try {
    await call();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected a rejection with ${code}`).toBeDefined();
  expect(isDriverError(caught), `expected a DriverError, got ${String(caught)}`).toBe(true);
  expect((caught as { code: string }).code).toBe(code);
}

export function collectEvents(driver: ReferenceDriver): { events: LifecycleEvent[]; stop: () => void } {
  const events: LifecycleEvent[] = [];
  const stop = driver.subscribeEvents((e) => events.push(e));
  return { events, stop };
}

/** Sum of `used` per resource class over all nodes. */
export function usedTotals(inv: { nodes: { resources: Record<string, { used: number }> }[] }): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const node of inv.nodes) for (const [cls, r] of Object.entries(node.resources)) totals[cls] = (totals[cls] ?? 0) + r.used;
  return totals;
}
