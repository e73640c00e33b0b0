import { statfs } from 'node:fs/promises';
import { errors } from '@nova-common/core';
import { engineKindOf, differencesOf } from '../mapping/engine-kind.js';
import { unsafeVolumeRootReason } from '../mapping/host-paths.js';
import { pruneStopRecords, sweep } from './cleanup.js';
import type { EngineContext } from './context.js';
import { ensureNetwork } from './networks.js';
import { loadPlugs, pruneVifRecords } from './plugs.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/**
 * Connect to the engine and prepare the host: negotiate the API version, learn which engine it
 * is and what the host has, open the record of the stops it asked for, make the base network every
 * instance sits on, and sweep what a spawn or replacement that died (with the engine or the driver)
 * left behind.
 */
export async function initHost(ctx: EngineContext, signal?: AbortSignal): Promise<void> {
  ctx.reconnect();
  const version = await ctx.client.negotiate(signal);
  ctx.differences = differencesOf(engineKindOf(version));
  const info = await ctx.client.info(signal);
  const diskGb = await statfs(info.DockerRootDir)
    .then((s) => Math.floor((Number(s.blocks) * Number(s.bsize)) / GIB))
    .catch(() => 0);
  ctx.host = {
    node: ctx.config.nodeName ?? (info.Name || 'localhost'),
    cpus: Math.max(1, info.NCPU),
    memoryMb: Math.max(1, Math.floor(info.MemTotal / MIB)),
    diskGb,
    engineRootDir: info.DockerRootDir,
  };
  const unsafeRoot = info.DockerRootDir ? unsafeVolumeRootReason(ctx.config.volumeRoot, [info.DockerRootDir]) : undefined;
  if (unsafeRoot !== undefined) {
    throw errors.invalidInput([{ path: ['config', 'volumeRoot'], message: `${unsafeRoot} (the engine's root dir)` }], 'initHost');
  }
  try {
    await ctx.stops.open(info.DockerRootDir);
  } catch (err) {
    throw errors.invalidInput([{ path: ['config', 'stateDir'], message: `cannot be written: ${(err as Error).message}` }], 'initHost');
  }
  await loadPlugs(ctx);
  if (ctx.vifPlugin !== undefined) {
    try {
      await ctx.vifRecords.open(info.DockerRootDir);
    } catch (err) {
      throw errors.invalidInput([{ path: ['config', 'stateDir'], message: `cannot be written: ${(err as Error).message}` }], 'initHost');
    }
  }
  await ensureNetwork(ctx, ctx.baseNetwork, '__base__', signal);
  await sweep(ctx, ctx.config.spawnSweepAgeSeconds, signal);
  await pruneStopRecords(ctx, signal);
  await pruneVifRecords(ctx, signal);
}
