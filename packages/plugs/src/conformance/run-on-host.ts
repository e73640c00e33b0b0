import { hostname } from 'node:os';
import type { GuardedVifPlugin, GuardedVolumeConnector } from '@nova-common/core/plugs';
import { plugReport, runVifPluginConformance, runVolumeConnectorConformance, type PlugReport, type PlugRunResult } from '@nova-common/conformance';
import { createFileConnector, createLinuxBridgeTapPlugin, createLoopConnector, createVethPlugin } from '../factories.js';
import { makeNamespace, makeVolumeDirs, sh, testVif, volumeFixtures } from '../testing/host-fixtures.js';

export interface PlugsOnHostOptions {
  seed?: number;
  /** How the report names the host (default: the host name). */
  host?: string;
  /** Called after each plug's run, e.g. to print progress. */
  onResult?: (result: PlugRunResult) => void;
}

type VifFactory = (options: { netns: string }) => GuardedVifPlugin;
type VolumeFactory = (options: { roots: string[]; stateDir: string }) => GuardedVolumeConnector;

const VIF_PLUGS: [string, VifFactory, 'tap' | 'veth'][] = [
  ['linux-bridge-tap', createLinuxBridgeTapPlugin, 'tap'],
  ['linux-bridge-veth', createVethPlugin, 'veth'],
];
const VOLUME_PLUGS: [string, VolumeFactory][] = [
  ['file', createFileConnector],
  ['loop', createLoopConnector],
];

/**
 * Run the plug suites on every plug of this package, on this host, as the CI and the main
 * job do: each VIF plugin inside a network namespace of its own (the host's devices are never
 * seen), each volume connector on files in a temporary directory; everything made is removed.
 * Needs root (network namespaces, loop devices).
 */
export async function runPlugsOnHost(options: PlugsOnHostOptions = {}): Promise<PlugReport> {
  const seed = options.seed ?? Date.now() % 2 ** 31;
  const startedAt = new Date().toISOString();
  const runs: PlugRunResult[] = [];
  for (const [label, create] of VIF_PLUGS) {
    const ns = makeNamespace(label.slice(-4));
    try {
      const result = await runVifPluginConformance(
        {
          plugin: create({ netns: ns.name }),
          vif: (i) => testVif(i, 'ncbr-suite'),
          devices: async () => ns.devices(),
          makeForeignDevice: async (name) => void sh('ip', ['-n', ns.name, 'tuntap', 'add', 'dev', name, 'mode', 'tap']),
          removeForeignDevice: async (name) => void sh('ip', ['-n', ns.name, 'link', 'del', 'dev', name]),
        },
        { seed },
      );
      runs.push(result);
      options.onResult?.(result);
    } finally {
      ns.remove();
    }
  }
  for (const [, create] of VOLUME_PLUGS) {
    const dirs = makeVolumeDirs();
    try {
      const result = await runVolumeConnectorConformance({ connector: create({ roots: [dirs.root], stateDir: dirs.state }), ...volumeFixtures(dirs) }, { seed });
      runs.push(result);
      options.onResult?.(result);
    } finally {
      dirs.remove();
    }
  }
  return plugReport(runs, { host: options.host ?? hostname(), startedAt, seed });
}
