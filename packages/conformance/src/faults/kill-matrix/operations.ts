import { isDriverError, type GuardedDriver, type InstanceSpecInput, type VolumeAttachmentInput } from '@nova-common/core';

/** The operations the kill matrix interrupts: the lifecycle, power and device calls. */
export type KillOperation = 'spawn' | 'destroy' | 'powerOff' | 'powerOn' | 'reboot' | 'attachVolume' | 'detachVolume';

/** What one interrupted operation needs: the instance it acts on, and a volume for the device calls. */
export interface KillSubject {
  uuid: string;
  spec: InstanceSpecInput;
  volume: VolumeAttachmentInput | undefined;
}

/**
 * One operation of the matrix: the state it starts from, the call, and the state that says it
 * took effect. A retry of the call after the restart converges when `reached` holds: the
 * contract's idempotency (spawn of an existing uuid is INSTANCE_EXISTS, destroy of a gone one
 * is a no-op, power calls find their target state) is what lets a caller simply retry.
 */
export interface KillOperationPlan {
  readonly capability: string | null;
  /** Bring a fresh instance to the state the call starts from. */
  prepare(d: GuardedDriver, s: KillSubject): Promise<void>;
  call(d: GuardedDriver, s: KillSubject): Promise<unknown>;
  /** Whether the call's effect is there, read through the driver. */
  reached(d: GuardedDriver, s: KillSubject): Promise<boolean>;
}

async function powerStateOf(d: GuardedDriver, uuid: string): Promise<string | undefined> {
  try {
    return (await d.getInfo(uuid)).powerState;
  } catch (error) {
    if (isDriverError(error) && error.code === 'INSTANCE_NOT_FOUND') return undefined;
    throw error;
  }
}

async function volumeAttached(d: GuardedDriver, s: KillSubject): Promise<boolean> {
  const info = await d.getInfo(s.uuid);
  return info.volumes.some((v) => v.volumeId === s.volume!.volumeId.toLowerCase());
}

const spawned = async (d: GuardedDriver, s: KillSubject): Promise<void> => void (await d.spawn(s.spec));

export const KILL_OPERATIONS: Record<KillOperation, KillOperationPlan> = {
  spawn: {
    capability: null,
    prepare: async () => undefined,
    call: (d, s) => d.spawn(s.spec),
    reached: async (d, s) => (await powerStateOf(d, s.uuid)) === 'RUNNING',
  },
  destroy: {
    capability: null,
    prepare: spawned,
    call: (d, s) => d.destroy(s.uuid),
    reached: async (d, s) => (await powerStateOf(d, s.uuid)) === undefined,
  },
  powerOff: {
    capability: null,
    prepare: spawned,
    call: (d, s) => d.powerOff(s.uuid, { gracefulTimeoutMs: 0 }),
    reached: async (d, s) => (await powerStateOf(d, s.uuid)) === 'SHUTDOWN',
  },
  powerOn: {
    capability: null,
    prepare: async (d, s) => {
      await d.spawn(s.spec);
      await d.powerOff(s.uuid, { gracefulTimeoutMs: 0 });
    },
    call: (d, s) => d.powerOn(s.uuid),
    reached: async (d, s) => (await powerStateOf(d, s.uuid)) === 'RUNNING',
  },
  reboot: {
    capability: 'operation.reboot',
    prepare: spawned,
    call: (d, s) => d.reboot(s.uuid, 'HARD'),
    // A hard reboot has no lasting mark of its own: it took effect when the instance runs.
    reached: async (d, s) => (await powerStateOf(d, s.uuid)) === 'RUNNING',
  },
  attachVolume: {
    capability: 'operation.attach-volume',
    prepare: spawned,
    call: (d, s) => d.attachVolume(s.uuid, s.volume!),
    reached: volumeAttached,
  },
  detachVolume: {
    capability: 'operation.detach-volume',
    prepare: async (d, s) => {
      await d.spawn(s.spec);
      await d.attachVolume(s.uuid, s.volume!);
    },
    call: (d, s) => d.detachVolume(s.uuid, s.volume!.volumeId),
    reached: async (d, s) => !(await volumeAttached(d, s)),
  },
};

/** Errors a retry may answer once an earlier attempt took effect: the call is done, not failed. */
export const ALREADY_DONE: Partial<Record<KillOperation, readonly string[]>> = {
  spawn: ['INSTANCE_EXISTS'],
  attachVolume: ['VOLUME_ALREADY_ATTACHED'],
  detachVolume: ['VOLUME_NOT_ATTACHED'],
};
