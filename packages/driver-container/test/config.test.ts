import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DriverError, guard } from '@nova-common/core';
import { createContainerDriver } from '../src/driver/driver.js';
import { fakeEngine } from './fake-engine.js';

function refusal(config: unknown): DriverError {
  try {
    createContainerDriver(config as never);
  } catch (err) {
    return err as DriverError;
  }
  throw new Error('the configuration was accepted');
}

describe('configuration', () => {
  it('takes every default from an empty configuration', () => {
    expect(() => createContainerDriver()).not.toThrow();
  });

  it.each([
    [{ stopTimeoutSeconds: -1 }, ['config', 'stopTimeoutSeconds']],
    [{ socketPath: 'relative.sock' }, ['config', 'socketPath']],
    [{ volumeRoot: '/srv/../etc' }, ['config', 'volumeRoot']],
    [{ namePrefix: 'Nova' }, ['config', 'namePrefix']],
    [{ apiVersion: '2' }, ['config', 'apiVersion']],
    [{ stateDir: 'state' }, ['config', 'stateDir']],
  ] as const)('refuses %j with INVALID_INPUT naming %j', (config, path) => {
    const err = refusal(config);
    expect(err).toBeInstanceOf(DriverError);
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.issues?.map((i) => i.path)).toContainEqual(path);
  });

  it('refuses a field it does not know', () => {
    const err = refusal({ privileged: true });
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.issues?.[0]?.path).toEqual(['config']);
  });
});

describe('the state directory', () => {
  it('initHost refuses one it cannot write with INVALID_INPUT naming config.stateDir', async () => {
    const engine = await fakeEngine('docker', '0a1b2c3d-2222-4333-8444-555555555555');
    const blocker = path.join(mkdtempSync(path.join(tmpdir(), 'nova-state-')), 'a-file');
    writeFileSync(blocker, 'not a directory');
    const driver = guard(createContainerDriver({ socketPath: engine.socketPath, stateDir: path.join(blocker, 'state') }));
    try {
      const err = await driver.initHost().then(
        () => undefined,
        (e: unknown) => e as DriverError,
      );
      expect(err?.code).toBe('INVALID_INPUT');
      expect(err?.issues?.map((i) => i.path)).toContainEqual(['config', 'stateDir']);
    } finally {
      await driver.cleanupHost();
      await engine.close();
    }
  });
});
