import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DriverError, FlavorSchema, ImageMetaSchema } from '@nova-common/core';
import { assertSafe, buildContainerConfig, pidsLimitOf } from '../src/mapping/container-config.js';
import type { ContainerCreateBody } from '../src/client/types.js';

const naming = { namePrefix: 'nova', labelPrefix: 'io.nova-common', ownerId: 'default' };
const fixtures = path.join(import.meta.dirname, 'fixtures');

function golden(name: string, value: unknown): void {
  const file = path.join(fixtures, `${name}.json`);
  const text = JSON.stringify(value, null, 2) + '\n';
  if (!existsSync(file) || process.env['UPDATE_GOLDEN'] === '1') writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

function labels(overrides: Partial<Parameters<typeof buildContainerConfig>[0]['labels']> = {}) {
  return {
    uuid: '11111111-2222-4333-8444-555555555555',
    name: 'web "1" <&>',
    metadata: { role: 'web', 'ключ': 'значение' },
    flavor: FlavorSchema.parse({ id: 'm1.small', name: 'm1.small', vcpus: 2, memoryMb: 512, rootGb: 10, swapMb: 256 }),
    node: 'host-a',
    image: ImageMetaSchema.parse({ id: 'nova-common/busybox:latest', diskFormat: 'raw', containerFormat: 'docker' }),
    volumes: [
      { volumeId: 'aaaaaaaa-2222-4333-8444-555555555555', target: '/volumes/aaaaaaaa-2222-4333-8444-555555555555', source: '/srv/vols/a', kind: 'file' as const },
      { volumeId: 'bbbbbbbb-2222-4333-8444-555555555555', deviceName: 'vdc', target: '/dev/nova-vol-bbbbbbbb-2222-4333-8444-555555555555', source: '/dev/loop7', kind: 'block' as const },
    ],
    ...overrides,
  };
}

function build(hostCpus = 4, l = labels()): ContainerCreateBody {
  return buildContainerConfig({
    naming,
    imageRef: 'nova-common/busybox:latest',
    labels: l,
    baseNetwork: 'nova-default-base',
    hostCpus,
    pidsLimit: 1024,
    init: true,
    stopTimeoutSeconds: 10,
  });
}

describe('container config mapping', () => {
  it('maps a flavor, labels, mounts and devices (golden)', () => {
    golden('container-config-small', build());
  });

  it('caps the CPU quota at the host CPUs and keeps the 6 MiB memory floor (golden)', () => {
    const l = labels({ flavor: FlavorSchema.parse({ id: 'tiny', name: 'tiny', vcpus: 64, memoryMb: 1, rootGb: 0 }), volumes: [] });
    const body = build(2, l);
    expect(body.HostConfig.NanoCpus).toBe(2_000_000_000);
    expect(body.HostConfig.Memory).toBe(6 * 1024 * 1024);
    expect(body.HostConfig.MemorySwap).toBe(6 * 1024 * 1024);
    golden('container-config-overcommit', body);
  });

  it('is never privileged, never on the host network, always with the init and no restart policy', () => {
    const body = build();
    expect(body.HostConfig.Privileged).toBe(false);
    expect(body.HostConfig.NetworkMode).toBe('nova-default-base');
    expect(body.HostConfig.Init).toBe(true);
    expect(body.HostConfig.RestartPolicy).toEqual({ Name: 'no' });
    expect(body.HostConfig.SecurityOpt).toContain('no-new-privileges');
    expect(body.Labels['io.nova-common.owner']).toBe('default');
    expect(JSON.parse(body.Labels['io.nova-common.metadata']!)).toEqual({ role: 'web', 'ключ': 'значение' });
  });

  it('assertSafe refuses privileged, host namespaces and mounts outside the resolved set', () => {
    const ok = build();
    expect(() => assertSafe(ok, new Set(['/srv/vols/a', '/dev/loop7']))).not.toThrow();
    const cases: Array<(b: ContainerCreateBody) => void> = [
      (b) => ((b.HostConfig as unknown as Record<string, unknown>)['Privileged'] = true),
      (b) => (b.HostConfig.NetworkMode = 'host'),
      (b) => (b.HostConfig.PidMode = 'host'),
      (b) => (b.HostConfig.IpcMode = 'host'),
      (b) => ((b.HostConfig as unknown as Record<string, unknown>)['Binds'] = ['/:/host']),
      (b) => ((b.HostConfig as unknown as Record<string, unknown>)['CapAdd'] = ['SYS_ADMIN']),
      (b) => b.HostConfig.Mounts!.push({ Type: 'bind', Source: '/etc', Target: '/x', ReadOnly: false }),
      (b) => b.HostConfig.Devices!.push({ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' }),
    ];
    for (const mutate of cases) {
      const b = structuredClone(ok);
      mutate(b);
      expect(() => assertSafe(b, new Set(['/srv/vols/a', '/dev/loop7']))).toThrow(DriverError);
    }
  });

  it('reads the pids limit from the flavor extra spec and refuses a bad one with INVALID_INPUT naming the field', () => {
    const f = FlavorSchema.parse({ id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 0, extraSpecs: { 'container:pids_limit': '64' } });
    expect(pidsLimitOf(f, 1024)).toBe(64);
    expect(pidsLimitOf({ ...f, extraSpecs: {} }, 1024)).toBe(1024);
    try {
      pidsLimitOf({ ...f, extraSpecs: { 'container:pids_limit': 'lots' } }, 1024);
      expect.unreachable();
    } catch (e) {
      expect((e as DriverError).code).toBe('INVALID_INPUT');
      expect((e as DriverError).issues?.[0]?.path).toEqual(['spec', 'flavor', 'extraSpecs', 'container:pids_limit']);
    }
  });
});
