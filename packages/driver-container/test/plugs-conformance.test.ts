import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeConformance } from '@nova-common/conformance/vitest';
import type { Vif } from '@nova-common/core';
import type { VifPlugin } from '@nova-common/core/plugs';
import { createFileConnector, createVethPlugin } from '@nova-common/plugs';
import { EngineClient } from '../src/client/engine-client.js';
import { ContainerDriverConfigSchema } from '../src/config.js';
import { containerBackendHooks } from '../src/backend-hooks.js';
import { containerWitness } from '../src/witness.js';
import { SOCKET, STATE_DIR, VOLUME_ROOT, adaptSpec, images, rawTestDriver, volumeConnection } from './helpers.js';

const OWNER = 'conformance-plugs';
const BRIDGE = `ncbr-cf${process.pid.toString(36)}`.slice(0, 15);
const engineConfig = ContainerDriverConfigSchema.parse({ socketPath: SOCKET, volumeRoot: VOLUME_ROOT, stateDir: STATE_DIR, ownerId: OWNER });
const witness = containerWitness(engineConfig);
const backend = containerBackendHooks(engineConfig);
const connectorState = path.join(STATE_DIR, 'conformance-plugs-connector');
mkdirSync(connectorState, { recursive: true });

/**
 * The real veth plugin with the suite's generated ports put on this test's bridge: the suite's VIFs name
 * no bridge (and any VIF type), which the network service would have bound to one.
 */
function onTestBridge(plugin: VifPlugin): VifPlugin {
  const bound = (vif: Vif): Vif => ({ ...vif, type: 'bridge', network: { ...vif.network, bridge: BRIDGE } });
  return {
    name: plugin.name,
    vifTypes: ['bridge', 'ovs', 'tap', 'vhostuser', 'hw_veb', 'hostdev_physical', 'macvtap', 'ethernet', 'other'],
    plug: (vif, instance, options) => plugin.plug(bound(vif), instance, options),
    unplug: (vif, instance, options) => plugin.unplug(bound(vif), instance, options),
    listPlugged: (options) => plugin.listPlugged(options),
  };
}

const plugs = () => ({ vifPlugin: onTestBridge(createVethPlugin()), volumeConnector: createFileConnector({ roots: [VOLUME_ROOT], stateDir: connectorState }) });

// A short run (5 sequences x 15 steps per property) against dockerd with the VIF plugin and the file connector.
describeConformance('@nova-common/driver-container on dockerd with the veth plugin and the file connector', () => rawTestDriver(OWNER, {}, plugs()), {
  name: '@nova-common/driver-container',
  module: '@nova-common/driver-container',
  config: { ownerId: OWNER },
  adaptSpec,
  volumeConnection,
  images,
  witness,
  simulate: { crash: (_driver: unknown, uuid: string) => backend.hooks.crash!(uuid) },
  settleTimeoutMs: 500,
  hangTimeoutMs: 3000,
  runs: 5,
  steps: 15,
  timeoutMs: 1_200_000,
});

describe('after the conformance run with plugs', () => {
  const client = new EngineClient({ socketPath: SOCKET });
  afterAll(async () => {
    await client.close();
    await witness.close?.();
    await backend.close();
  });
  it('left no container of its owner and no port on the bridge', async () => {
    const left = await client.listContainers({ label: [`io.nova-common.owner=${OWNER}`] });
    expect(left.map((c) => c.Names[0])).toEqual([]);
    const links = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string; master?: string }[];
    expect(links.filter((l) => l.master === BRIDGE).map((l) => l.ifname)).toEqual([]);
    if (links.some((l) => l.ifname === BRIDGE)) execFileSync('ip', ['link', 'del', BRIDGE]);
  });
});
