import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeConformance } from '@nova-common/conformance/vitest';
import type { InstanceSpecInput } from '@nova-common/core';
import type { GuardedVifPlugin } from '@nova-common/core/plugs';
import { createLinuxBridgeTapPlugin, createLoopConnector } from '@nova-common/plugs';
import { makeNamespace, makeVolumeDirs, sh } from '@nova-common/plugs/testing';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { LibvirtDriverConfigSchema } from '../src/config.js';
import { libvirtWitness } from '../src/witness.js';
import { SOCKET, requireLibvirtd } from './helpers/backend.js';

/**
 * The conformance suite on libvirt's test driver with the real plugs: every VIF the suite
 * gives goes on a bridge (so the Linux bridge tap plugin plugs it, in a network namespace of
 * this file's own), with the loop connector configured too. After the run, no tap, bridge or
 * loop device may be left on the host.
 */
const ns = makeNamespace('lvconf');
const dirs = makeVolumeDirs();
const BRIDGE = 'ncbr-conf';
const config = LibvirtDriverConfigSchema.parse({ uri: 'test:///default', socketPath: SOCKET, namePrefix: 'ncplugc-' });
const witness = libvirtWitness(config);
let keeper: LibvirtClient | undefined;

const loopsOfRun = (): string[] => {
  const out = sh('losetup', ['--json', '--list']);
  const loops = out.trim() === '' ? [] : (JSON.parse(out) as { loopdevices: { name: string; 'back-file': string | null }[] }).loopdevices;
  return loops.filter((l) => (l['back-file'] ?? '').startsWith(dirs.root)).map((l) => l.name);
};

beforeAll(async () => {
  await requireLibvirtd('test:///default');
  keeper = new LibvirtClient({ socketPath: SOCKET, uri: 'test:///default', keepaliveIntervalMs: 0 });
  await keeper.connect();
});

afterAll(async () => {
  await witness.close?.();
  await keeper?.close();
  for (const loop of loopsOfRun()) sh('losetup', ['--detach', loop]);
  ns.remove();
  dirs.remove();
});

/**
 * How many plugs the run made: the suite must have gone through the plugin. (The suite
 * generates volumes only for a driver that hot-plugs them, which the test driver cannot: the
 * connector is configured but the suite gives it no volume here; the file test and the QEMU
 * test connect volumes.)
 */
const made = { plugs: 0 };

const driver = () => {
  const plugin = createLinuxBridgeTapPlugin({ netns: ns.name });
  const connector = createLoopConnector({ roots: [dirs.root], stateDir: dirs.state });
  const counted: GuardedVifPlugin = { ...plugin, plug: (vif, instance, options) => (made.plugs++, plugin.plug(vif, instance, options)) };
  return createLibvirtDriver(config, {
    vifPlugin: counted,
    volumeConnector: connector,
  });
};

describeConformance('driver-libvirt on libvirt test driver with the bridge tap plugin and the loop connector', driver, {
  witness,
  adaptSpec: (spec: InstanceSpecInput): InstanceSpecInput => ({
    ...spec,
    networkInfo: (spec.networkInfo ?? []).map((v) => ({ ...v, network: { ...v.network, bridge: BRIDGE } })),
  }),
  volumeConnection: (volumeId: string) => {
    const path = join(dirs.root, `${volumeId}.img`);
    writeFileSync(path, '');
    truncateSync(path, 1024 * 1024);
    return { driverVolumeType: 'file', path };
  },
});

describe('after the suite', () => {
  it('left no tap, no bridge and no loop device of its instances', () => {
    expect(made.plugs).toBeGreaterThan(0);
    expect(ns.devices().filter((d) => d !== 'lo')).toEqual([]);
    expect(loopsOfRun()).toEqual([]);
  });
});
