import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VifInput } from '@nova-common/core';
import type { ConnectionInfoInput } from '@nova-common/core/plugs';

/**
 * What the plug suites (runVifPluginConformance, runVolumeConnectorConformance) need from a real
 * Linux host, for the plugs' own tests and for any caller that runs them through something else
 * (the agent's wire). They run host tools as root and touch only what they make: a network
 * namespace of their own, volume files under a temporary directory.
 */

/** Run a host tool for a test fixture (argument arrays, no shell). */
export const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });

/** A network namespace of the test's own, so the plugins never see the host's devices. */
export function makeNamespace(tag = 'plug'): { name: string; remove(): void; devices(): string[] } {
  const name = `nc-${tag}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  sh('ip', ['netns', 'add', name]);
  return {
    name,
    remove: () => sh('ip', ['netns', 'del', name]),
    devices: () => (JSON.parse(sh('ip', ['-n', name, '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname),
  };
}

/** The i-th test port on `bridge`: ids and MACs differ per i. */
export function testVif(i: number, bridge: string): VifInput {
  const hex = i.toString(16).padStart(2, '0');
  return {
    // Nova derives device names from a port id's first characters: test ids differ there, as real (random) ones do.
    id: `${hex}0b7c1e-2d3f-4e5a-9b6c-7d8e9f0a1b2c`,
    address: `fa:16:3e:00:00:${hex}`,
    network: { id: 'net-plug-test', bridge, mtu: 1450 },
    type: 'bridge',
  };
}

/** A directory of volume files (the connector's root) and one outside it. */
export function makeVolumeDirs(): { root: string; outside: string; state: string; remove(): void } {
  const base = mkdtempSync(join(tmpdir(), 'nc-plug-vol-'));
  const root = join(base, 'volumes');
  const outside = join(base, 'elsewhere');
  const state = join(base, 'state');
  for (const d of [root, outside]) mkdirSync(d);
  return { root, outside, state, remove: () => rmSync(base, { recursive: true, force: true }) };
}

/** Volume files under `root` and one outside it, as the volume suite's fixtures want them (both made when missing). */
export function volumeFixtures(dirs: { root: string; outside: string }) {
  mkdirSync(dirs.root, { recursive: true });
  mkdirSync(dirs.outside, { recursive: true });
  return {
    async makeVolume(i: number, sizeBytes: number) {
      const hex = i.toString(16).padStart(2, '0');
      const volumeId = `9c3e5a7b-1f2d-4c6e-8a0b-2d4f6a8c0e${hex}`;
      const path = join(dirs.root, `volume-${hex}.img`);
      writeFileSync(path, '');
      truncateSync(path, sizeBytes);
      return { volumeId, connectionInfo: { driverVolumeType: 'file', path } as ConnectionInfoInput };
    },
    async growVolume(info: ConnectionInfoInput, sizeBytes: number) {
      if (info.driverVolumeType === 'file') truncateSync(info.path, sizeBytes);
    },
    async outsideRoots(): Promise<ConnectionInfoInput> {
      const path = join(dirs.outside, 'not-a-volume.img');
      writeFileSync(path, 'x');
      return { driverVolumeType: 'file', path };
    },
    /** Every loop device whose file lies in this test's directories (other tests' loop devices are not ours to judge). */
    async witness(): Promise<string[]> {
      const out = sh('losetup', ['--json', '--list']);
      const loops = out.trim() === '' ? [] : (JSON.parse(out) as { loopdevices: { name: string; 'back-file': string | null }[] }).loopdevices;
      return loops.filter((l) => (l['back-file'] ?? '').startsWith(dirs.root) || (l['back-file'] ?? '').startsWith(dirs.outside)).map((l) => `${l.name}=${l['back-file']}`);
    },
    /** An operator's loop device on the volume's file. */
    async foreignUse(info: ConnectionInfoInput) {
      if (info.driverVolumeType !== 'file') throw new Error('file volumes only');
      const device = sh('losetup', ['--find', '--show', '--', info.path]).trim();
      return async () => {
        sh('losetup', ['--detach', device]);
      };
    },
  };
}
