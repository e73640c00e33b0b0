import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DriverError, FlavorSchema, guard } from '@nova-common/core';
import { createContainerDriver } from '../src/driver/driver.js';
import { assertHonouredExtraSpecs } from '../src/mapping/extra-specs.js';
import { fakeEngine } from './fake-engine.js';

const PRIVILEGE = 'asks for a host privilege (privileged mode, a host namespace, capabilities, devices or mounts) this driver never grants; remove the key';
const UNKNOWN = 'is not a setting of this driver (it reads container:pids_limit only); remove the key';

function flavor(extraSpecs: Record<string, string>) {
  return FlavorSchema.parse({ id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 0, extraSpecs });
}

function refusal(extraSpecs: Record<string, string>): DriverError {
  try {
    assertHonouredExtraSpecs(flavor(extraSpecs), 'spawn');
  } catch (err) {
    return err as DriverError;
  }
  throw new Error('the extra specs were accepted');
}

describe('flavor extra specs the driver would not honour are refused, never dropped', () => {
  it.each([
    ['container:privileged', 'true', PRIVILEGE],
    ['container:network_mode', 'host', PRIVILEGE],
    ['container:host_network', 'true', PRIVILEGE],
    ['container:pid_mode', 'host', PRIVILEGE],
    ['container:ipc_mode', 'host', PRIVILEGE],
    ['container:cap_add', 'SYS_ADMIN', PRIVILEGE],
    ['container:capabilities', 'NET_ADMIN', PRIVILEGE],
    ['container:security_opt', 'seccomp=unconfined', PRIVILEGE],
    ['container:devices', '/dev/sda', PRIVILEGE],
    ['docker:privileged', 'true', PRIVILEGE],
    ['podman:userns', 'host', PRIVILEGE],
    ['Container:Privileged', 'true', PRIVILEGE],
    ['container:cpu_shares', '512', UNKNOWN],
    ['docker:pids_limit', '64', UNKNOWN],
  ])('%s=%s: INVALID_INPUT naming the key', (key, value, message) => {
    const err = refusal({ [key]: value });
    expect(err).toBeInstanceOf(DriverError);
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.issues).toEqual([{ path: ['spec', 'flavor', 'extraSpecs', key], message }]);
  });

  it('names every offending key at once', () => {
    const err = refusal({ 'container:privileged': 'true', 'hw:cpu_policy': 'dedicated', 'container:cap_add': 'ALL', 'container:pids_limit': '64' });
    expect(err.issues?.map((i) => i.path[3])).toEqual(['container:privileged', 'container:cap_add']);
  });

  it("passes the key it reads and other namespaces' keys", () => {
    expect(() =>
      assertHonouredExtraSpecs(flavor({ 'container:pids_limit': '64', 'hw:cpu_policy': 'dedicated', 'resources:VCPU': '1', 'capabilities:cpu_arch': 'x86_64', privileged: 'true' }), 'spawn'),
    ).not.toThrow();
  });
});

describe('through the guard', () => {
  it('spawn refuses container:privileged with INVALID_INPUT before the engine creates anything', async () => {
    const engine = await fakeEngine('docker', '0a1b2c3d-2222-4333-8444-555555555555');
    const stateDir = mkdtempSync(path.join(tmpdir(), 'nova-extra-specs-'));
    const driver = guard(createContainerDriver({ socketPath: engine.socketPath, stateDir, ownerId: 'unit' }));
    try {
      await driver.initHost();
      const uuid = '0a1b2c3d-3333-4333-8444-555555555555';
      const err = await driver
        .spawn({
          uuid,
          name: 'x',
          flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 1, extraSpecs: { 'container:privileged': 'true' } },
          image: { id: 'nova-common/busybox:latest', diskFormat: 'raw', containerFormat: 'docker' },
        })
        .then(
          () => undefined,
          (e: unknown) => e as DriverError,
        );
      expect(err?.code).toBe('INVALID_INPUT');
      expect(err?.issues).toEqual([{ path: ['spec', 'flavor', 'extraSpecs', 'container:privileged'], message: PRIVILEGE }]);
      expect(engine.calls.filter((c) => c.startsWith('POST /containers/create'))).toEqual([]);
    } finally {
      await driver.cleanupHost();
      await engine.close();
    }
  });
});
