import { join } from 'node:path';
import { guard, isDriverError } from '@nova-common/core';
import { createReferenceDriver } from '@nova-common/core/testing';
import { createFileConnector } from '@nova-common/plugs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRemoteVolumeConnector, type RemoteVolumeConnector } from '../../src/client/remote-plugs.js';
import { startAgent, type Agent } from '../../src/server/agent.js';
import { parseListenAddress } from '../../src/server/listen-address.js';
import { TestCa, type Issued } from '../helpers/pki.js';
import { recordingVolume, volumeFixtures } from '../helpers/plugs.js';
import { tempDir } from '../helpers/serve.js';

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
    return { code: 'OK', message: '' };
  } catch (error) {
    return isDriverError(error) ? { code: error.code, message: error.message } : { code: 'NOT A DRIVER ERROR', message: String(error) };
  }
}

describe('the plug services over TCP with mutual TLS: the certificate names the role', () => {
  const dir = tempDir('nova-agent-plug-pki-');
  const calls: string[] = [];
  let ca: TestCa;
  let agent: Agent;
  let fx: ReturnType<typeof volumeFixtures>;
  const remotes: RemoteVolumeConnector[] = [];

  async function connector(cert: Issued, role?: 'network'): Promise<RemoteVolumeConnector> {
    const remote = await openRemoteVolumeConnector({
      endpoint: agent.addresses[0]!.address,
      tls: { ca: ca.cert.certPath, cert: cert.certPath, key: cert.keyPath },
      connectTimeoutMs: 5000,
      ...(role === undefined ? {} : { role }),
    });
    remotes.push(remote);
    return remote;
  }

  beforeAll(async () => {
    ca = new TestCa(dir.dir);
    const server = ca.server();
    const root = join(dir.dir, 'volumes');
    fx = volumeFixtures({ root, outside: join(dir.dir, 'elsewhere') });
    agent = await startAgent({
      driver: guard(createReferenceDriver()),
      driverName: 'reference',
      driverVersion: '1',
      listeners: [{ role: 'compute', address: parseListenAddress('tcp://127.0.0.1:0') }],
      tls: { cert: server.cert, key: server.key, ca: ca.cert.cert },
      volumeConnector: recordingVolume(createFileConnector({ roots: [root], stateDir: join(dir.dir, 'state') }), calls),
    });
  });
  afterAll(async () => {
    for (const r of remotes) r.close();
    await agent.shutdown(1000);
    dir.remove();
  });

  it('a volume certificate connects; a network certificate is refused before the connector; a reader lists', async () => {
    const v = await fx.makeVolume(1, 1024 * 1024);
    const volume = await connector(ca.client('cinder', { uri: 'nova-common:role:volume' }));
    expect((await volume.connect(v.volumeId, v.connectionInfo)).volumeId).toBe(v.volumeId);
    await volume.disconnect(v.volumeId, v.connectionInfo);
    calls.length = 0;
    const network = await connector(ca.client('neutron', { uri: 'nova-common:role:network' }));
    const denied = await codeOf(network.connect(v.volumeId, v.connectionInfo));
    expect(denied.code).toBe('INTERNAL');
    expect(denied.message).toContain('PERMISSION_DENIED');
    expect(calls).toStrictEqual([]);
    const reader = await connector(ca.client('monitor', { ou: 'reader' }));
    expect(await reader.listConnected()).toStrictEqual([]);
    expect(calls).toStrictEqual(['listConnected']);
  });

  it('a client told its role refuses what the role may not call without a round trip', async () => {
    const v = await fx.makeVolume(2, 1024 * 1024);
    const local = await connector(ca.client('ops', { ou: 'compute' }), 'network');
    calls.length = 0;
    const early = await codeOf(local.connect(v.volumeId, v.connectionInfo));
    expect(early.code).toBe('INTERNAL');
    expect(early.message).toContain('checked before calling the agent');
    expect(calls).toStrictEqual([]);
  });
});
