import { hostname } from 'node:os';
import type { GuardedVifPlugin, GuardedVolumeConnector } from '@nova-common/core/plugs';
import { plugReport, runVifPluginConformance, runVolumeConnectorConformance, type PlugReport, type PlugRunResult } from '@nova-common/conformance';
import { execFileSync } from 'node:child_process';
import { createFileConnector, createIscsiConnector, createLinuxBridgeTapPlugin, createLoopConnector, createOvsPlugin, createVethPlugin } from '../factories.js';
import { makeNamespace, makeVolumeDirs, sh, testVif, volumeFixtures } from '../testing/host-fixtures.js';
import { startIscsiTarget } from '../testing/iscsi-fixtures.js';
import { startOvs } from '../testing/ovs-fixtures.js';

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
 * seen; Open vSwitch runs its own database and daemon there), each volume connector on files in
 * a temporary directory (iSCSI against a tgt target of its own on 127.0.0.1); everything made is
 * removed. A plug whose host tools are not installed is reported as not run, with the reason.
 * Needs root (network namespaces, loop devices, FUSE).
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
  const notRun: PlugReport['notRun'] = [];
  const ovsMissing = missingTools(['ovsdb-server', 'ovs-vswitchd', 'ovs-vsctl', 'ovsdb-tool']);
  if (ovsMissing.length > 0) notRun.push({ plugin: 'ovs', kind: 'vif', reason: `not installed here: ${ovsMissing.join(', ')} (Debian: openvswitch-switch)` });
  else runs.push(await onOvs(seed, options.onResult));
  const iscsiMissing = missingTools(['tgtd', 'tgtadm', 'qemu-storage-daemon', 'qemu-img']);
  if (iscsiMissing.length > 0) notRun.push({ plugin: 'iscsi', kind: 'volume', reason: `not installed here: ${iscsiMissing.join(', ')} (Debian: tgt, qemu-block-extra, qemu-utils, fuse3)` });
  else runs.push(await onIscsi(seed, options.onResult));
  return plugReport(runs, { host: options.host ?? hostname(), startedAt, seed, notRun });
}

/** The Open vSwitch plugin on a switch of the run's own (its database and daemon in a namespace it makes). */
async function onOvs(seed: number, onResult: PlugsOnHostOptions['onResult']): Promise<PlugRunResult> {
  const ns = makeNamespace('ovs');
  const ovs = await startOvs(ns.name).catch((error: unknown) => {
    ns.remove();
    throw error;
  });
  try {
    const result = await runVifPluginConformance(
      {
        plugin: createOvsPlugin({ netns: ns.name, db: ovs.db }),
        vif: (i) => ({ ...testVif(i, 'ncovs-suite'), type: 'ovs' }),
        devices: async () => [...ns.devices(), ...ovs.ports().map((p) => `ovs:${p}`)],
        makeForeignDevice: async (name) => void sh('ip', ['-n', ns.name, 'tuntap', 'add', 'dev', name, 'mode', 'tap']),
        removeForeignDevice: async (name) => void sh('ip', ['-n', ns.name, 'link', 'del', 'dev', name]),
      },
      { seed },
    );
    onResult?.(result);
    return result;
  } finally {
    await ovs.stop();
    ns.remove();
  }
}

/** The iSCSI connector against a user-space target (tgt) of the run's own on 127.0.0.1. */
async function onIscsi(seed: number, onResult: PlugsOnHostOptions['onResult']): Promise<PlugRunResult> {
  const dirs = makeVolumeDirs();
  const target = await startIscsiTarget(dirs).catch((error: unknown) => {
    dirs.remove();
    throw error;
  });
  try {
    const result = await runVolumeConnectorConformance({ connector: createIscsiConnector({ portals: [target.portal], stateDir: dirs.state }), ...target.fixtures }, { seed });
    onResult?.(result);
    return result;
  } finally {
    await target.stop();
    dirs.remove();
  }
}

/** The tools of `names` that are not on the PATH. */
function missingTools(names: string[]): string[] {
  return names.filter((name) => {
    try {
      execFileSync('sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
}
