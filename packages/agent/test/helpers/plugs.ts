import { execFileSync } from 'node:child_process';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { create, type Message, type MessageInitShape } from '@bufbuild/protobuf';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { DriverError, VifInput } from '@nova-common/core';
import type { ConnectionInfoInput, VifPlugin, VolumeConnector } from '@nova-common/core/plugs';
import { methodDefinition } from '../../src/grpc/service-definition.js';
import { driverErrorOf, errorDetailFromStatusBin } from '../../src/mapping/errors.js';
import * as pb from '../../src/wire.js';

/** Run a host tool for a fixture (argument arrays, no shell). */
export const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });

/** A network namespace of the test's own, so the plugins never see the host's devices. */
export function makeNamespace(): { name: string; remove(): void; devices(): string[] } {
  const name = `nc-agent-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  sh('ip', ['netns', 'add', name]);
  return {
    name,
    remove: () => sh('ip', ['netns', 'del', name]),
    devices: () => (JSON.parse(sh('ip', ['-n', name, '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname),
  };
}

/** The i-th test port on `bridge`: ids and MACs differ per i (and in their first characters, as Nova names devices from them). */
export function testVif(i: number, bridge: string): VifInput {
  const hex = i.toString(16).padStart(2, '0');
  return { id: `${hex}0b7c1e-2d3f-4e5a-9b6c-7d8e9f0a1b2c`, address: `fa:16:3e:00:00:${hex}`, network: { id: 'net-agent-test', bridge, mtu: 1450 }, type: 'bridge' };
}

/** Volume files under `root` and one outside it, as the volume suite's fixtures want them. */
export function volumeFixtures(dirs: { root: string; outside: string }) {
  mkdirSync(dirs.root, { recursive: true });
  mkdirSync(dirs.outside, { recursive: true });
  return {
    async makeVolume(i: number, sizeBytes: number) {
      const hex = i.toString(16).padStart(2, '0');
      const path = join(dirs.root, `volume-${hex}.img`);
      writeFileSync(path, '');
      truncateSync(path, sizeBytes);
      return { volumeId: `9c3e5a7b-1f2d-4c6e-8a0b-2d4f6a8c0e${hex}`, connectionInfo: { driverVolumeType: 'file', path } as ConnectionInfoInput };
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

/** The plug's calls by method name, recorded before they run (what reached the plug behind the agent). */
export function recordingVif(plugin: VifPlugin, calls: string[]): VifPlugin {
  return {
    name: plugin.name,
    vifTypes: plugin.vifTypes,
    plug: (...args) => (calls.push('plug'), plugin.plug(...args)),
    unplug: (...args) => (calls.push('unplug'), plugin.unplug(...args)),
    listPlugged: (...args) => (calls.push('listPlugged'), plugin.listPlugged(...args)),
  };
}

export function recordingVolume(connector: VolumeConnector, calls: string[]): VolumeConnector {
  return {
    name: connector.name,
    transports: connector.transports,
    getConnector: (...args) => (calls.push('getConnector'), connector.getConnector(...args)),
    connect: (...args) => (calls.push('connect'), connector.connect(...args)),
    disconnect: (...args) => (calls.push('disconnect'), connector.disconnect(...args)),
    extend: (...args) => (calls.push('extend'), connector.extend(...args)),
    listConnected: (...args) => (calls.push('listConnected'), connector.listConnected(...args)),
  };
}

type VifMethods = typeof pb.VifPlugsService.method;
type VolumeMethods = typeof pb.VolumeConnectorsService.method;
export type RawResult = { ok: true; response: Message & Record<string, unknown> } | { ok: false; grpcCode: number; details: string; error: DriverError | undefined };

/** A plug RPC made by hand (messages built here, not by the remote plugs): what the wire itself answers. */
export function rawPlugCall<K extends keyof VifMethods | keyof VolumeMethods>(
  target: string,
  op: K,
  init: MessageInitShape<(K extends keyof VifMethods ? VifMethods[K] : K extends keyof VolumeMethods ? VolumeMethods[K] : never)['input']>,
): Promise<RawResult> {
  const method = (pb.VifPlugsService.method as Record<string, VifMethods[keyof VifMethods]>)[op] ?? (pb.VolumeConnectorsService.method as Record<string, VolumeMethods[keyof VolumeMethods]>)[op]!;
  const d = methodDefinition(method);
  const client = new Client(target, credentials.createInsecure());
  const request = create(method.input, init as never) as Message;
  return new Promise((resolve) => {
    client.makeUnaryRequest(d.path, d.requestSerialize, d.responseDeserialize as (b: Buffer) => Message, request, new Metadata(), { deadline: Date.now() + 10_000 }, (err: ServiceError | null, value?: Message) => {
      client.close();
      if (err) {
        const bin = err.metadata?.get('grpc-status-details-bin')[0];
        const detail = bin instanceof Buffer ? errorDetailFromStatusBin(bin) : undefined;
        resolve({ ok: false, grpcCode: err.code, details: err.details, error: detail === undefined ? undefined : driverErrorOf(detail) });
      } else resolve({ ok: true, response: value as never });
    });
  });
}
