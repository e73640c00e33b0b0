import { describe, expect, it } from 'vitest';
import { guard } from '@nova-common/core';
import { manifest } from '../src/manifest.js';

describe('the manifest', () => {
  it('refuses a bad configuration, naming the field', () => {
    const parsed = manifest.configSchema.safeParse({ vcpus: 0 });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['vcpus']);
  });

  it('declares the core profile complete and every other capability missing', async () => {
    const driver = guard(manifest.create(manifest.configSchema.parse({})));
    await driver.initHost();
    const { capabilities } = await driver.getCapabilities();
    expect(capabilities['operation.launch'].level).toBe('complete');
    expect(capabilities['operation.pause'].level).toBe('missing');
    await expect(driver.pause('3f7c1e52-8a0d-4c1b-9e2f-5b6d7a8c9d0e')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await driver.cleanupHost();
  });

  it('a new driver object with the same configuration sees what an earlier one made', async () => {
    const config = manifest.configSchema.parse({ backend: 'manifest-test' });
    const first = guard(manifest.create(config));
    await first.initHost();
    const uuid = '3f7c1e52-8a0d-4c1b-9e2f-5b6d7a8c9d0e';
    await first.spawn({
      uuid,
      name: 'vm-1',
      flavor: { id: 'small', name: 'small', vcpus: 1, memoryMb: 512, rootGb: 1 },
      image: { id: 'cirros', diskFormat: 'raw', containerFormat: 'bare' },
    });
    await first.cleanupHost();

    const second = guard(manifest.create(config));
    await second.initHost();
    expect((await second.getInfo(uuid)).powerState).toBe('RUNNING');
    expect((await second.listInstances()).map((i) => i.uuid)).toEqual([uuid]);
    await second.destroy(uuid);
    expect(await second.listInstances()).toEqual([]);
    await second.cleanupHost();
  });
});
