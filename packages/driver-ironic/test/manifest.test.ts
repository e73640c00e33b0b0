import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadDriver } from '@nova-common/core';
import { createIronicDriver, manifest, VERSION, IronicDriverConfigSchema } from '../src/index.js';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${pkgDir}/package.json`, 'utf8')) as { name: string; version: string; 'nova-common': unknown };

describe('manifest and configuration', () => {
  it('names the package, its version and the contract range', () => {
    expect(manifest.name).toBe(pkg.name);
    expect(manifest.version).toBe(pkg.version);
    expect(VERSION).toBe(pkg.version);
    expect(manifest.contract).toBe('^1.2.0');
    expect(pkg['nova-common']).toEqual({ driver: true, contract: '^1.2.0' });
  });

  it('describes every configuration field', () => {
    const shape = IronicDriverConfigSchema.shape as Record<string, { description?: string }>;
    for (const [key, field] of Object.entries(shape)) expect(field.description, key).toMatch(/\S/);
  });

  it('defaults to the local Ironic and refuses bad values with INVALID_INPUT naming the field', () => {
    const parsed = IronicDriverConfigSchema.parse({});
    expect(parsed.endpoint).toBe('http://127.0.0.1:6385');
    expect(parsed.microversion).toEqual({ min: '1.56', max: '1.82' });
    expect(() => createIronicDriver({ connections: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', issues: [expect.objectContaining({ path: ['config', 'connections'] })] }));
    expect(() => createIronicDriver({ imageSourceTemplate: 'no-placeholder' })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => createIronicDriver({ microversion: { min: 'one', max: '1.82' } })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('is loadable through core\'s loader from its built package', async () => {
    const loaded = await loadDriver(pkgDir, { endpoint: 'http://127.0.0.1:6399' });
    expect(loaded.manifest.name).toBe('@nova-common/driver-ironic');
    // Not connected: a call before initHost is refused as the backend being unavailable.
    await expect(loaded.driver.listNodes()).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });
});
