import { afterAll, describe, expect, it } from 'vitest';
import { describeConformance } from '@nova-common/conformance/vitest';
import { EngineClient } from '../../src/client/engine-client.js';
import { adaptSpec, images } from '../helpers.js';
import { PODMAN_SOCKET, rawPodmanDriver, podmanVolumeConnection, requirePodman } from './helpers.js';

const OWNER = 'conformance-podman';

// The default run (20 sequences x 25 steps per property) against podman's service: one test per property the
// driver declares on podman, UNSUPPORTED verified for the rest.
describeConformance(
  '@nova-common/driver-container on podman',
  async () => {
    const client = await requirePodman(); // fails with the command to start podman when it is not up
    await client.close();
    return rawPodmanDriver(OWNER);
  },
  {
    name: '@nova-common/driver-container',
    module: '@nova-common/driver-container',
    config: { ownerId: OWNER, socketPath: PODMAN_SOCKET },
    adaptSpec,
    volumeConnection: podmanVolumeConnection,
    images,
    settleTimeoutMs: 500,
    // A real spawn takes a few hundred ms: the injected-hang timeout must be longer than that.
    hangTimeoutMs: 3000,
    timeoutMs: 1_200_000,
  },
);

describe('after the podman conformance run', () => {
  const client = new EngineClient({ socketPath: PODMAN_SOCKET });
  afterAll(async () => {
    await client.close();
  });
  it('left no container, network or image of its owner on podman', async () => {
    await requirePodman().then((c) => c.close());
    const owner = [`io.nova-common.owner=${OWNER}`];
    const containers = await client.listContainers({ label: owner });
    expect(containers.map((c) => c.Names[0])).toEqual([]);
    // The base network stays (initHost makes it once per owner); no VIF network may remain.
    const networks = await client.listNetworks({ label: owner });
    expect(networks.map((n) => n.Name).filter((n) => !n.endsWith('-base'))).toEqual([]);
    // No state image (attach/detach volume) outlives its instance, and every image the driver committed carries
    // its own kind (podman drops commit body labels: an image labelled as an instance would mean they were lost).
    // (One label filter, the kind checked here: podman 4.3 lists no image at all for two label filters.)
    const images = await client.listImages({ label: owner });
    for (const kind of ['state-image', 'instance']) {
      const left = images.filter((i) => i.Labels?.['io.nova-common.kind'] === kind);
      expect(left.map((i) => i.RepoTags), kind).toEqual([]);
    }
  });
});
