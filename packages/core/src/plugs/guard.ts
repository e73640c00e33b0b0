import type { z } from 'zod';
import { DriverError, isDriverError } from '../errors/driver-error.js';
import { ConnectionInfoSchema } from '../schemas/block-device-info.js';
import { UuidSchema } from '../schemas/common.js';
import { VifSchema } from '../schemas/network-info.js';
import { KeyedQueue } from '../toolkit/keyed-queue.js';
import { issuesFromZod } from '../toolkit/issues.js';
import type { GuardedVifPlugin, GuardedVolumeConnector, PlugCallOptions, VifPlugin, VolumeConnector } from './interfaces.js';
import {
  ConnectedVolumeSchema,
  ConnectorPropertiesSchema,
  PlugInstanceSchema,
  PluggedVifSchema,
  type ConnectedVolume,
} from './schemas.js';

/**
 * The plug contracts' wall, as `guard` is the compute contract's: every input is parsed (an
 * invalid one is INVALID_INPUT naming the field, and the plugin never sees it), uuids are
 * made canonical, calls on one VIF or one volume run one after another, every output is
 * checked, and anything but a DriverError becomes INTERNAL.
 */
export function guardVifPlugin(plugin: VifPlugin): GuardedVifPlugin {
  const queue = new KeyedQueue();
  const call = async (op: 'plug' | 'unplug', vifInput: unknown, instanceInput: unknown, options?: PlugCallOptions) => {
    const vif = parse(VifSchema, vifInput, op, ['vif']);
    const instance = parse(PlugInstanceSchema, instanceInput, op, ['instance']);
    const canonical = { ...vif, id: vif.id.toLowerCase() };
    const owner = { ...instance, uuid: instance.uuid.toLowerCase() };
    if (!plugin.vifTypes.includes(vif.type)) {
      throw new DriverError('INVALID_INPUT', {
        op,
        target: canonical.id,
        issues: [{ path: ['vif', 'type'], message: `${plugin.name} wires ${plugin.vifTypes.join(', ')}, not ${vif.type}` }],
      });
    }
    return queue.run(`vif:${canonical.id}`, () =>
      invoke<unknown>(op, canonical.id, options, () => (op === 'plug' ? plugin.plug(canonical, owner, options) : plugin.unplug(canonical, owner, options))),
    ).then((out) => ({ out, vifId: canonical.id, instanceUuid: owner.uuid }));
  };
  return {
    name: plugin.name,
    vifTypes: plugin.vifTypes,
    async plug(vif, instance, options) {
      const { out, vifId, instanceUuid } = await call('plug', vif, instance, options);
      const plugged = checkOutput(PluggedVifSchema, out, 'plug');
      if (plugged.vifId.toLowerCase() !== vifId || plugged.instanceUuid.toLowerCase() !== instanceUuid) {
        throw violation('plug', `answered vif ${plugged.vifId} of instance ${plugged.instanceUuid}, asked for ${vifId} of ${instanceUuid}`);
      }
      return plugged;
    },
    async unplug(vif, instance, options) {
      await call('unplug', vif, instance, options);
    },
    async listPlugged(options) {
      const out = await invoke('listPlugged', undefined, options, () => plugin.listPlugged(options));
      return checkOutput(PluggedVifSchema.array(), out, 'listPlugged');
    },
  };
}

export function guardVolumeConnector(connector: VolumeConnector): GuardedVolumeConnector {
  const queue = new KeyedQueue();
  const call = async (op: 'connect' | 'disconnect' | 'extend', idInput: unknown, infoInput: unknown, options?: PlugCallOptions) => {
    const volumeId = parse(UuidSchema, idInput, op, ['volumeId']).toLowerCase();
    const info = parse(ConnectionInfoSchema, infoInput, op, ['connectionInfo']);
    if (!connector.transports.includes(info.driverVolumeType)) {
      throw new DriverError('INVALID_INPUT', {
        op,
        target: volumeId,
        issues: [
          { path: ['connectionInfo', 'driverVolumeType'], message: `${connector.name} connects ${connector.transports.join(', ')}, not ${info.driverVolumeType}` },
        ],
      });
    }
    const out = await queue.run(`volume:${volumeId}`, () =>
      invoke<unknown>(op, volumeId, options, () =>
        op === 'connect'
          ? connector.connect(volumeId, info, options)
          : op === 'extend'
            ? connector.extend(volumeId, info, options)
            : connector.disconnect(volumeId, info, options),
      ),
    );
    if (op === 'disconnect') return undefined;
    const connected = checkOutput(ConnectedVolumeSchema, out, op);
    if (connected.volumeId.toLowerCase() !== volumeId) throw violation(op, `answered volume ${connected.volumeId}, asked for ${volumeId}`);
    return connected;
  };
  return {
    name: connector.name,
    transports: connector.transports,
    async getConnector(options) {
      const out = await invoke('getConnector', undefined, options, () => connector.getConnector(options));
      return checkOutput(ConnectorPropertiesSchema, out, 'getConnector');
    },
    connect: async (id, info, options) => (await call('connect', id, info, options)) as ConnectedVolume,
    disconnect: async (id, info, options) => {
      await call('disconnect', id, info, options);
    },
    extend: async (id, info, options) => (await call('extend', id, info, options)) as ConnectedVolume,
    async listConnected(options) {
      const out = await invoke('listConnected', undefined, options, () => connector.listConnected(options));
      return checkOutput(ConnectedVolumeSchema.array(), out, 'listConnected');
    },
  };
}

function parse<S extends z.ZodType>(schema: S, value: unknown, op: string, path: (string | number)[]): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new DriverError('INVALID_INPUT', { op, issues: issuesFromZod(parsed.error, path) });
}

/** Run one plugin call: refused at once when already cancelled; any non-contract error is INTERNAL. */
async function invoke<T>(op: string, target: string | undefined, options: PlugCallOptions | undefined, fn: () => Promise<T>): Promise<T> {
  if (options?.signal?.aborted) throw new DriverError('CANCELLED', { op, target });
  try {
    return await fn();
  } catch (error) {
    if (isDriverError(error)) return Promise.reject(error.withOp(op));
    throw new DriverError('INTERNAL', { op, target, detail: error instanceof Error ? error.message : String(error), cause: error });
  }
}

function checkOutput<S extends z.ZodType>(schema: S, value: unknown, op: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new DriverError('INTERNAL', {
    op,
    issues: issuesFromZod(parsed.error, ['result']),
    detail: 'contract violation: the plugin answered an invalid result',
  });
}

const violation = (op: string, detail: string): DriverError => new DriverError('INTERNAL', { op, detail: `contract violation: ${detail}` });

