import { z } from 'zod';
import type { ConnectionInfo } from '../schemas/block-device-info.js';
import type { Vif } from '../schemas/network-info.js';
import { errors } from '../errors/driver-error.js';
import { guardVifPlugin, guardVolumeConnector } from './guard.js';
import type { GuardedVifPlugin, GuardedVolumeConnector, PlugCallOptions, VifPlugin, VolumeConnector } from './interfaces.js';
import { loadPlug, PlugLoadError } from './load-plug.js';
import type { ConnectedVolume, PlugInstance, PluggedVif } from './schemas.js';

/**
 * How a driver's JSON configuration names a plug it calls: the module and its factory
 * (`@nova-common/plugs#createLinuxBridgeTapPlugin`, as the agent's `--vif-plugin`) and the
 * configuration the factory is called with. The driver loads it with `loadPlug` at initHost.
 */
export const PlugSpecSchema = z
  .object({
    use: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[^\s#]+(#[A-Za-z_$][A-Za-z0-9_$]*)?$/, 'must be <package or path>#<factory>')
      .describe('The plug module (a package name or a path) and, after #, the name of its factory.'),
    config: z.unknown().optional().describe("The factory's configuration (plain JSON)."),
  })
  .strict();
export type PlugSpec = z.infer<typeof PlugSpecSchema>;

/** The plugs a driver uses, behind the plug guard. */
export interface DriverPlugs {
  vif?: GuardedVifPlugin;
  volume?: GuardedVolumeConnector;
}

/**
 * At a driver's initHost: its plugs, behind the plug guard. A plug object the driver was given
 * wins over its configuration's spec; a spec is loaded with loadPlug from `resolveFrom`. A plug
 * that cannot be loaded is INVALID_INPUT naming `config.vifPlugin.use` or `config.volumeConnector.use`.
 */
export async function loadDriverPlugs(
  specs: { vifPlugin?: PlugSpec | undefined; volumeConnector?: PlugSpec | undefined },
  given: { vifPlugin?: VifPlugin | GuardedVifPlugin | undefined; volumeConnector?: VolumeConnector | GuardedVolumeConnector | undefined },
  resolveFrom: string,
): Promise<DriverPlugs> {
  const load = async <T>(field: 'vifPlugin' | 'volumeConnector', spec: PlugSpec, kind: 'vif' | 'volume'): Promise<T> => {
    try {
      return (await (kind === 'vif' ? loadPlug('vif', spec.use, spec.config, resolveFrom) : loadPlug('volume', spec.use, spec.config, resolveFrom))) as T;
    } catch (error) {
      if (!(error instanceof PlugLoadError)) throw error;
      throw errors.invalidInput([{ path: ['config', field, 'use'], message: error.message }], 'initHost');
    }
  };
  const vif = given.vifPlugin ?? (specs.vifPlugin === undefined ? undefined : await load<VifPlugin>('vifPlugin', specs.vifPlugin, 'vif'));
  const volume = given.volumeConnector ?? (specs.volumeConnector === undefined ? undefined : await load<VolumeConnector>('volumeConnector', specs.volumeConnector, 'volume'));
  return {
    ...(vif === undefined ? {} : { vif: guardVifPlugin(vif as VifPlugin) }),
    ...(volume === undefined ? {} : { volume: guardVolumeConnector(volume as VolumeConnector) }),
  };
}

/**
 * Plug every VIF of an instance, in order. If one fails, the ones plugged by this call are
 * unplugged again (best effort, without the caller's signal, which may be the reason of the
 * failure) and the first error is thrown: a spawn or an attach that fails leaves nothing plugged.
 */
export async function plugAll(plugin: VifPlugin, vifs: readonly Vif[], instance: PlugInstance, options: PlugCallOptions = {}): Promise<PluggedVif[]> {
  const plugged: { vif: Vif; device: PluggedVif }[] = [];
  try {
    for (const vif of vifs) plugged.push({ vif, device: await plugin.plug(vif, instance, options) });
    return plugged.map((p) => p.device);
  } catch (error) {
    await unplugAll(plugin, plugged.map((p) => p.vif).reverse(), instance);
    throw error;
  }
}

/**
 * Unplug VIFs (cleanup: every one is tried; unplug of an unplugged VIF is a no-op). Answers the
 * errors met, so a caller that must not fail (destroy's cleanup, a rollback) can log them.
 */
export async function unplugAll(plugin: VifPlugin, vifs: readonly Vif[], instance: PlugInstance, options: PlugCallOptions = {}): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (const vif of vifs) {
    try {
      await plugin.unplug(vif, instance, options);
    } catch (error) {
      errors.push(error);
    }
  }
  return errors;
}

/** One volume as a driver hands it to its connector. */
export interface VolumeToConnect {
  volumeId: string;
  connectionInfo: ConnectionInfo;
}

/** Connect volumes in order; if one fails, the ones this call connected are disconnected again and the first error is thrown. */
export async function connectAll(connector: VolumeConnector, volumes: readonly VolumeToConnect[], options: PlugCallOptions = {}): Promise<ConnectedVolume[]> {
  const connected: { volume: VolumeToConnect; result: ConnectedVolume }[] = [];
  try {
    for (const volume of volumes) connected.push({ volume, result: await connector.connect(volume.volumeId, volume.connectionInfo, options) });
    return connected.map((c) => c.result);
  } catch (error) {
    await disconnectAll(connector, connected.map((c) => c.volume).reverse());
    throw error;
  }
}

/** Disconnect volumes (cleanup: every one is tried); answers the errors met. */
export async function disconnectAll(connector: VolumeConnector, volumes: readonly VolumeToConnect[], options: PlugCallOptions = {}): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (const volume of volumes) {
    try {
      await connector.disconnect(volume.volumeId, volume.connectionInfo, options);
    } catch (error) {
      errors.push(error);
    }
  }
  return errors;
}
