import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { loadDriver } from '@nova-common/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_DIR } from '../helpers/cli.js';
import { serveReference, tempDir, type Served } from '../helpers/serve.js';
import { spec } from '../helpers/specs.js';

describe("loadDriver('@nova-common/agent/remote', config): what the conformance CLI needs", () => {
  let served: Served;
  const project = tempDir('nova-agent-project-');
  beforeAll(async () => {
    served = await serveReference();
    // A project that installed @nova-common/agent, as the conformance CLI's users do.
    mkdirSync(join(project.dir, 'node_modules/@nova-common'), { recursive: true });
    symlinkSync(PACKAGE_DIR, join(project.dir, 'node_modules/@nova-common/agent'));
  });
  afterAll(async () => {
    await served.close();
    project.remove();
  });

  it('loads, validates the config, and drives the served driver through the guard', async () => {
    const loaded = await loadDriver('@nova-common/agent/remote', { endpoint: `unix://${served.socket()}` }, { resolveFrom: project.dir });
    expect(loaded.manifest.name).toBe('@nova-common/agent/remote');
    const { driver } = loaded;
    await driver.initHost();
    const s = spec();
    await driver.spawn(s);
    expect((await driver.getInfo(s.uuid.toUpperCase())).uuid).toBe(s.uuid);
    expect(await served.reference.listInstances()).toHaveLength(1);
    await driver.cleanupHost();
  });

  it('refuses a configuration without an endpoint, naming it', async () => {
    await expect(loadDriver('@nova-common/agent/remote', { endpoint: 'http://x' }, { resolveFrom: project.dir })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      issues: [expect.objectContaining({ path: ['endpoint'] })],
    });
  });
});
