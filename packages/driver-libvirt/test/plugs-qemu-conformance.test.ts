import { mkdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeConformance } from '@nova-common/conformance/vitest';
import type { InstanceSpecInput } from '@nova-common/core';
import type { GuardedVifPlugin, GuardedVolumeConnector } from '@nova-common/core/plugs';
import { createLinuxBridgeTapPlugin, createLoopConnector } from '@nova-common/plugs';
import { makeVolumeDirs, sh } from '@nova-common/plugs/testing';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { LibvirtDriverConfigSchema } from '../src/config.js';
import { libvirtConformanceFixtures } from '../src/fixtures/conformance-fixtures.js';
import { GUEST_DIR, INITRD, KERNEL, SOCKET, requireGuest, requireLibvirtd } from './helpers/backend.js';

/**
 * The conformance suite on real QEMU/TCG guests with the real plugs: every VIF given at spawn
 * goes on a bridge this file's plugin creates (its tap named for this run) and every volume
 * (at spawn and attachVolume) is a loop device of the loop connector on a file of this run's
 * directory. After the run, no tap, bridge or loop device of it may be left.
 */
const tag = randomBytes(2).toString('hex');
const BRIDGE = `ncbr-pq${tag}`;
const volumeRoot = `${GUEST_DIR}/volumes/plugs-${tag}`;
const state = makeVolumeDirs();
const config = LibvirtDriverConfigSchema.parse({
  uri: 'qemu:///system',
  socketPath: SOCKET,
  kernel: KERNEL,
  initrd: INITRD,
  namePrefix: 'nova-pq-',
  acpiShutdownTimeoutMs: 3_000,
  softRebootTimeoutMs: 3_000,
});
const fixtures = libvirtConformanceFixtures(config, { volumeRoot });

const made = { plugs: 0, connects: 0 };
const loopsOfRun = (): string[] => {
  const out = sh('losetup', ['--json', '--list']);
  const loops = out.trim() === '' ? [] : (JSON.parse(out) as { loopdevices: { name: string; 'back-file': string | null }[] }).loopdevices;
  return loops.filter((l) => (l['back-file'] ?? '').startsWith(volumeRoot)).map((l) => l.name);
};
const devicesOfRun = (): string[] =>
  (JSON.parse(sh('ip', ['-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname).filter((n) => n === BRIDGE || n.startsWith(`nc${tag}`));

beforeAll(async () => {
  await requireLibvirtd('qemu:///system');
  requireGuest();
  mkdirSync(volumeRoot, { recursive: true });
});

afterAll(async () => {
  await fixtures.cleanup?.();
  for (const loop of loopsOfRun()) sh('losetup', ['--detach', loop]);
  for (const dev of devicesOfRun().sort((a) => (a === BRIDGE ? 1 : -1))) sh('ip', ['link', 'del', dev]);
  rmSync(volumeRoot, { recursive: true, force: true });
  state.remove();
});

const driver = () => {
  const plugin = createLinuxBridgeTapPlugin();
  const connector = createLoopConnector({ roots: [volumeRoot], stateDir: state.state });
  const vifPlugin: GuardedVifPlugin = { ...plugin, plug: (vif, instance, options) => (made.plugs++, plugin.plug(vif, instance, options)) };
  const volumeConnector: GuardedVolumeConnector = { ...connector, connect: (id, info, options) => (made.connects++, connector.connect(id, info, options)) };
  return createLibvirtDriver(config, { vifPlugin, volumeConnector });
};

const adapt = (spec: InstanceSpecInput): InstanceSpecInput => {
  const adapted = fixtures.adaptSpec ? fixtures.adaptSpec(spec) : spec;
  return {
    ...adapted,
    // Each tap named for this run (host devices of this test only): nc<tag> and the port id's first characters.
    networkInfo: (adapted.networkInfo ?? []).map((v) => ({ ...v, devname: `nc${tag}${v.id.replace(/-/g, '').slice(0, 9)}`, network: { ...v.network, bridge: BRIDGE } })),
  };
};

describeConformance('driver-libvirt on QEMU (TCG) with the bridge tap plugin and the loop connector', driver, {
  runs: 2,
  steps: 8,
  maxInstances: 2,
  hangTimeoutMs: 10_000,
  timeoutMs: 900_000,
  adaptSpec: adapt,
  ...(fixtures.volumeConnection ? { volumeConnection: fixtures.volumeConnection } : {}),
  ...(fixtures.images ? { images: fixtures.images } : {}),
  ...(fixtures.witness ? { witness: fixtures.witness } : {}),
  ...(fixtures.backend?.crash ? { simulate: { crash: (_driver: unknown, uuid: string) => fixtures.backend!.crash!(uuid) } } : {}),
});

describe('after the suite on QEMU', () => {
  it('went through both plugs and left no tap, bridge or loop device', () => {
    expect(made.plugs).toBeGreaterThan(0);
    expect(made.connects).toBeGreaterThan(0);
    expect(devicesOfRun()).toEqual([]);
    expect(loopsOfRun()).toEqual([]);
  });
});
