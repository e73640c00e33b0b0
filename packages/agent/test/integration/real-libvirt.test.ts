import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifest } from '@nova-common/driver-libvirt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIBVIRT_SOCKET, requireLibvirtd, servePackage, type ServedPackage } from '../helpers/real-backends.js';
import { conformanceThroughAgent, divergenceOf, failuresOf, localVersusRemote } from '../helpers/remote-suite.js';
import { tempDir } from '../helpers/serve.js';

const DRIVER = '@nova-common/driver-libvirt';
const VOLUME_ROOTS = ['/var/lib/libvirt/images/nova-common/volumes'];

/**
 * The libvirt test driver's host, as a private fixture: through libvirtd, `test:///<file>` gives
 * each connection its own state built from the file (`test:///default` is shared by every
 * connection), so the driver here and the driver behind the agent can spawn the same uuids.
 * 16 CPUs and 3 GiB, like `test:///default`.
 */
const NODE_XML = `<node>
  <cpu><mhz>2000</mhz><model>i686</model><active>16</active><max>16</max><nodes>1</nodes><sockets>2</sockets><cores>4</cores><threads>2</threads></cpu>
  <memory>3145728</memory>
</node>
`;

/**
 * @nova-common/driver-libvirt served by a nova-agent process on a unix socket, on libvirt's test
 * driver through libvirtd: the conformance suite through the wire (on `test:///default`, with
 * the driver's backend hooks), and the driver in this process against the same driver behind
 * the agent in lockstep (each on its own private test host).
 */
describe('driver-libvirt on the libvirt test driver through the agent', () => {
  const fixture = tempDir('nova-agent-libvirt-');
  const nodeXml = join(fixture.dir, 'node.xml');
  const suiteConfig = { uri: 'test:///default', socketPath: LIBVIRT_SOCKET, volumeRoots: VOLUME_ROOTS, namePrefix: 'nova-agent-' };
  const privateConfig = { uri: `test://${nodeXml}`, socketPath: LIBVIRT_SOCKET, volumeRoots: VOLUME_ROOTS, diskTotalGb: 200 };
  let suite: ServedPackage;
  let differential: ServedPackage;

  beforeAll(async () => {
    await requireLibvirtd();
    writeFileSync(nodeXml, NODE_XML);
    suite = await servePackage(DRIVER, suiteConfig);
    differential = await servePackage(DRIVER, privateConfig);
  });
  afterAll(async () => {
    await suite?.close();
    await differential?.close();
    fixture.remove();
  });

  it('passes the conformance suite through the wire, judged by the served driver’s own contract range', async () => {
    const result = await conformanceThroughAgent(suite, DRIVER, suiteConfig, { seed: 23, runs: 3, steps: 15, budget: '0steps' });
    expect(failuresOf(result)).toEqual([]);
    expect(result.summary.passed).toBeGreaterThan(5);
    expect(result.capabilities.find((c) => c.id === 'operation.suspend')?.status).toBe('complete');
  }, 600_000);

  it('the driver in this process and the same driver behind the agent answer alike, step by step (same seed)', async () => {
    const local = () => manifest.create(manifest.configSchema.parse(privateConfig));
    const result = await localVersusRemote(local, differential, { seed: 31, runs: 5, steps: 15, budget: '0steps' });
    expect(divergenceOf(result)).toBeUndefined();
    expect(result.steps).toBeGreaterThan(30);
  }, 600_000);
});
