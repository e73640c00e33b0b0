import { CONTRACT_VERSION } from '@nova-common/core';
import { runConformance } from '@nova-common/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteDriverConfigSchema, type ResolvedRemoteDriverConfig } from '../../src/client/config.js';
import { remoteManifest } from '../../src/client/manifest.js';
import { createRemoteDriver } from '../../src/client/remote-driver.js';
import { serveReference, type Served } from '../helpers/serve.js';

describe('the conformance suite through the agent: a served driver is held to its own contract range', () => {
  let current: Served;
  let older: Served;
  beforeAll(async () => {
    current = await serveReference();
    older = await serveReference({}, { agent: { driverContract: '^1.0.0' } });
  });
  afterAll(async () => {
    await current.close();
    await older.close();
  });

  it("GetCapabilities names the served driver's contract range, and the remote manifest's fixtures pass it on", async () => {
    const endpoint = `unix://${current.socket()}`;
    const remote = createRemoteDriver({ endpoint });
    await remote.initHost();
    expect(remote.agent?.driverContract).toBe(`^${CONTRACT_VERSION}`);
    await remote.cleanupHost();
    expect(await remoteManifest.conformanceFixtures!(RemoteConfig(endpoint))).toEqual({ contract: `^${CONTRACT_VERSION}` });
    expect(await remoteManifest.conformanceFixtures!(RemoteConfig(`unix://${older.socket()}`))).toEqual({ contract: '^1.0.0' });
  });

  for (const seed of [3, 11]) {
    it(`the current reference driver behind the agent passes the suite by its own table (seed ${seed})`, async () => {
      const endpoint = `unix://${current.socket()}`;
      const { contract } = await remoteManifest.conformanceFixtures!(RemoteConfig(endpoint));
      const r = await runConformance({ driver: () => createRemoteDriver({ endpoint }), seed, runs: 8, contract });
      const failed = r.properties.filter((p) => p.status === 'failed').map((p) => `${p.id}: ${p.counterexample?.message}`);
      expect(failed).toEqual([]);
      expect(r.summary.passed).toBeGreaterThan(5);
      // Judged by 1.1: the 1.1 operations were exercised through the wire.
      expect(r.capabilities.find((c) => c.id === 'operation.restore-state')?.status).toBe('complete');
      expect(r.capabilities.find((c) => c.id === 'operation.list-snapshots')?.status).toBe('complete');
    });
  }

  it('the same driver judged by the 1.0 table fails on a cell 1.1 changed: the range matters', async () => {
    const endpoint = `unix://${current.socket()}`;
    const r = await runConformance({ driver: () => createRemoteDriver({ endpoint }), seed: 3, runs: 8, contract: '^1.0.0' });
    const failed = r.properties.filter((p) => p.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
  });
});

/** The parsed configuration the loader would hand the manifest. */
function RemoteConfig(endpoint: string): ResolvedRemoteDriverConfig {
  return RemoteDriverConfigSchema.parse({ endpoint });
}
