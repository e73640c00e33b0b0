import { describe, expect, it } from 'vitest';
import { DriverError } from '@nova-common/core';
import { createContainerDriver } from '../src/driver/driver.js';

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
