import { execFileSync } from 'node:child_process';
import { guard, isDriverError, type GuardedDriver } from '@nova-common/core';
import { createReferenceDriver } from '@nova-common/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteDriver } from '../../src/client/remote-driver.js';
import { startAgent, type Agent } from '../../src/server/agent.js';
import { ListenError, parseListenAddress, parseRoleListener } from '../../src/server/listen-address.js';
import { rolesOfCertificate } from '../../src/server/roles.js';
import { TestCa, type Issued } from '../helpers/pki.js';
import { tempDir } from '../helpers/serve.js';
import { spec, vif } from '../helpers/specs.js';

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
    return { code: 'OK', message: '' };
  } catch (error) {
    return isDriverError(error) ? { code: error.code, message: error.message } : { code: 'NOT A DRIVER ERROR', message: String(error) };
  }
}

describe('TCP takes mutual TLS, and the certificate names the role', () => {
  it('openssl is available to make the test PKI', () => {
    expect(hasOpenssl).toBe(true);
  });

  const dir = tempDir('nova-agent-pki-');
  let ca: TestCa;
  let agent: Agent;
  let endpoint: string;
  const reference = createReferenceDriver();
  const remotes: GuardedDriver[] = [];

  async function client(cert: Issued, caCert = ca.cert): Promise<GuardedDriver> {
    const remote = guard(createRemoteDriver({ endpoint, tls: { ca: caCert.certPath, cert: cert.certPath, key: cert.keyPath }, connectTimeoutMs: 2000, retry: { attempts: 0 } }));
    remotes.push(remote);
    return remote;
  }

  beforeAll(async () => {
    ca = new TestCa(dir.dir);
    const server = ca.server();
    agent = await startAgent({
      driver: guard(reference),
      driverName: 'reference',
      driverVersion: '1',
      listeners: [{ role: 'compute', address: parseListenAddress('tcp://127.0.0.1:0') }],
      tls: { cert: server.cert, key: server.key, ca: ca.cert.cert },
    });
    endpoint = agent.addresses[0]!.address;
  });
  afterAll(async () => {
    for (const r of remotes) await r.cleanupHost().catch(() => undefined);
    await agent.shutdown(500);
    dir.remove();
  });

  it('reads roles from the subject OU and from URI SANs nova-common:role:<role>', () => {
    expect(rolesOfCertificate({ subject: { OU: 'compute', CN: 'x' }, subjectaltname: '' } as never)).toStrictEqual(new Set(['compute']));
    expect(rolesOfCertificate({ subject: { CN: 'x' }, subjectaltname: 'DNS:a, URI:nova-common:role:network, URI:nova-common:role:volume' } as never)).toStrictEqual(new Set(['network', 'volume']));
    expect(rolesOfCertificate({ subject: { OU: ['ops', 'root'] }, subjectaltname: 'URI:nova-common:role:admin' } as never)).toStrictEqual(new Set());
  });

  it('a compute certificate (OU) may do everything', async () => {
    const compute = await client(ca.client('orchestrator', { ou: 'compute' }));
    await compute.initHost();
    const s = spec();
    await compute.spawn(s);
    expect((await compute.getInfo(s.uuid)).powerState).toBe('RUNNING');
  });

  it('a network certificate (URI SAN) may hot-plug interfaces and read, nothing else', async () => {
    const s = spec();
    await guard(reference).spawn(s);
    const network = await client(ca.client('neutron', { uri: 'nova-common:role:network' }));
    await network.initHost();
    await network.attachInterface(s.uuid, vif());
    const denied = await codeOf(network.destroy(s.uuid));
    expect(denied.code).toBe('INTERNAL');
    expect(denied.message).toContain('PERMISSION_DENIED');
    expect((await reference.getInfo(s.uuid)).interfaces).toHaveLength(1);
  });

  it('a certificate without a role may call nothing, not even reads', async () => {
    const nobody = await client(ca.client('nobody'));
    expect((await codeOf(nobody.initHost())).message).toContain('PERMISSION_DENIED');
  });

  it('a certificate from another CA does not get through the handshake', async () => {
    const other = new TestCa(dir.dir, 'other');
    const stranger = await client(other.client('stranger', { ou: 'compute' }));
    expect((await codeOf(stranger.initHost())).code).toBe('BACKEND_UNAVAILABLE');
  });
});

describe('plaintext TCP is refused unless loopback and asked for', () => {
  const base = { driverName: 'reference', driverVersion: '1' };

  it('refuses a non-loopback address at startup, before listening or touching the driver', async () => {
    const calls: string[] = [];
    const driver = guard(createReferenceDriver());
    const spy = new Proxy(driver, { get: (t, p, r) => (calls.push(String(p)), Reflect.get(t, p, r)) });
    for (const address of ['tcp://0.0.0.0:7443', 'tcp://[::]:7443', 'tcp://10.1.2.3:7443']) {
      await expect(startAgent({ ...base, driver: spy, insecureLoopback: true, listeners: [{ role: 'compute', address: parseListenAddress(address) }] })).rejects.toThrow(ListenError);
    }
    await expect(startAgent({ ...base, driver: spy, listeners: [parseRoleListener('reader=tcp://0.0.0.0:7443')] })).rejects.toThrow(/mutual TLS/);
    expect(calls.filter((c) => c === 'initHost')).toStrictEqual([]);
  });

  it('refuses plaintext loopback without --insecure-loopback, and serves it with', async () => {
    const listeners = [{ role: 'compute' as const, address: parseListenAddress('tcp://127.0.0.1:0') }];
    await expect(startAgent({ ...base, driver: guard(createReferenceDriver()), listeners })).rejects.toThrow(/insecure-loopback/);
    const agent = await startAgent({ ...base, driver: guard(createReferenceDriver()), listeners, insecureLoopback: true });
    try {
      const remote = guard(createRemoteDriver({ endpoint: agent.addresses[0]!.address }));
      await remote.initHost();
      expect(await remote.listInstances()).toStrictEqual([]);
      await remote.cleanupHost();
    } finally {
      await agent.shutdown(500);
    }
  });

  it('the remote driver refuses plaintext TCP to a non-loopback address', () => {
    expect(() => createRemoteDriver({ endpoint: 'tcp://10.1.2.3:7443' })).toThrow(/needs tls/);
  });
});
