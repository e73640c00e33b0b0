/**
 * Cold migration of one running container from dockerd to podman (two engines, two sockets), two ways,
 * side by side in one run (rounds interleaved, so machine noise hits both alike):
 *   driver  prepareMigration (podman) -> migrate (dockerd) -> finishMigration (podman), behind core's guard:
 *           stop, commit, save | load, create with the same labels, VIF-less, start, remove the source
 *   export  by hand over the Engine API, the `docker export | import` way: stop the source container,
 *           GET /containers/{id}/export piped into podman's POST /images/create?fromSrc=- (the image's CMD
 *           re-applied as a change), create the same body there, start it, remove the source container
 * Both start from an equivalent running container on dockerd (same image, limits, init, base network)
 * and end with it running on podman; the instance is then destroyed outside the timing.
 *
 *   pnpm bench:migration                       (5 rounds)
 *   BENCH_ROUNDS=10 pnpm bench:migration
 */
import { FlavorSchema, ImageMetaSchema, guard } from '@nova-common/core';
import { EngineClient } from '../src/client/engine-client.js';
import { DRIVER_NAME } from '../src/driver-name.js';
import { createContainerDriver } from '../src/driver/driver.js';
import { buildContainerConfig } from '../src/mapping/container-config.js';
import { baseNetworkName } from '../src/mapping/networks.js';

const DOCKER = process.env['DOCKER_SOCKET'] ?? '/var/run/docker.sock';
const PODMAN = process.env['PODMAN_SOCKET'] ?? '/run/nova-common/podman.sock';
const IMAGE = 'nova-common/busybox:latest';
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const OWNER = 'bench-migration';
const naming = { namePrefix: 'nova', labelPrefix: 'io.nova-common', ownerId: `${OWNER}-raw` };
const flavor = FlavorSchema.parse({ id: 'bench', name: 'bench', vcpus: 1, memoryMb: 64, rootGb: 0 });
const image = ImageMetaSchema.parse({ id: IMAGE, diskFormat: 'raw', containerFormat: 'docker' });
const uuid = () => crypto.randomUUID();

async function main(): Promise<void> {
  const config = (socketPath: string) => ({ socketPath, ownerId: OWNER, stopTimeoutSeconds: 1, volumeRoot: '/tmp/nova-common/migration/volumes', stateDir: '/tmp/nova-common/migration/bench-state' });
  const src = guard(createContainerDriver(config(DOCKER)));
  const dst = guard(createContainerDriver(config(PODMAN)));
  await src.initHost();
  await dst.initHost();
  const d = new EngineClient({ socketPath: DOCKER });
  const p = new EngineClient({ socketPath: PODMAN });
  const dv = await d.negotiate();
  const pv = await p.negotiate();
  const base = baseNetworkName(naming);
  // The raw way's containers sit on a base network of their own owner, on each engine, as the driver's do.
  for (const c of [d, p]) {
    await c.createNetwork(base, { 'io.nova-common.owner': naming.ownerId, 'io.nova-common.kind': 'network' }).catch(() => undefined);
  }
  const cmd = ((await d.inspectImage(IMAGE)) as unknown as { Config?: { Cmd?: string[] } }).Config?.Cmd ?? ['sh'];
  const body = (imageRef: string, hostCpus: number) =>
    buildContainerConfig({
      naming,
      imageRef,
      labels: { uuid: uuid(), name: 'bench', metadata: {}, flavor, node: 'bench', image, volumes: [] },
      baseNetwork: base,
      hostCpus,
      pidsLimit: 1024,
      init: true,
      stopTimeoutSeconds: 1,
    });
  const spec = (id: string) => ({ uuid: id, name: 'bench', flavor, image, metadata: {}, networkInfo: [], blockDeviceInfo: { ephemerals: [], volumes: [] }, powerOn: true });

  type Way = { setup: () => Promise<unknown>; move: (s: unknown) => Promise<unknown>; teardown: (s: unknown) => Promise<void> };
  const ways: Record<string, Way> = {
    driver: {
      setup: async () => {
        const id = uuid();
        await src.spawn(spec(id));
        return id;
      },
      move: async (s) => {
        const id = s as string;
        const target = await dst.prepareMigration({ migrationId: uuid(), kind: 'COLD', sourceDriver: DRIVER_NAME, instance: spec(id) });
        await src.migrate(id, target);
        await dst.finishMigration(target.migrationId);
        return id;
      },
      teardown: async (s) => dst.destroy(s as string),
    },
    export: {
      setup: async () => {
        const name = `nova-bench-exp-${uuid()}`;
        const id = await d.createContainer(name, body(IMAGE, 2));
        await d.startContainer(id);
        return id;
      },
      move: async (s) => {
        const id = s as string;
        const repo = `nova-bench-exp/${uuid()}`;
        await d.stopContainer(id, 1);
        const tar = await d.stream(`/containers/${id}/export`, {});
        await p.request('POST', '/images/create', {
          query: { fromSrc: '-', repo, tag: 'latest' },
          repeated: { key: 'changes', values: [`CMD ${JSON.stringify(cmd)}`] },
          rawBody: { data: tar, contentType: 'application/x-tar' },
          slow: true,
        });
        const newId = await p.createContainer(`nova-bench-exp-${uuid()}`, body(`${repo}:latest`, 2));
        await p.startContainer(newId);
        await d.removeContainer(id);
        return { newId, repo };
      },
      teardown: async (s) => {
        const { newId, repo } = s as { newId: string; repo: string };
        await p.removeContainer(newId);
        await p.removeImage(`${repo}:latest`);
      },
    },
  };

  const times: Record<string, number[]> = { driver: [], export: [] };
  const once = async (name: string, counted: boolean) => {
    const w = ways[name]!;
    const s = await w.setup();
    const t0 = performance.now();
    const after = await w.move(s);
    if (counted) times[name]!.push(performance.now() - t0);
    await w.teardown(after);
  };
  for (const name of Object.keys(ways)) await once(name, false); // warm-up, not counted
  for (let i = 0; i < ROUNDS; i++) {
    const order = i % 2 === 0 ? ['driver', 'export'] : ['export', 'driver'];
    for (const name of order) await once(name, true);
  }
  for (const c of [d, p]) await c.removeNetwork(base).catch(() => undefined);
  await src.cleanupHost();
  await dst.cleanupHost();
  await d.close();
  await p.close();

  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return { median: s[Math.floor(s.length / 2)]!, mean: s.reduce((a, b) => a + b, 0) / s.length, min: s[0]!, max: s[s.length - 1]! };
  };
  console.log(`cold migration dockerd ${dv.Version} -> podman ${pv.Version}, running container, ${ROUNDS} rounds each, interleaved`);
  console.log('way      median ms   mean ms    min ms    max ms');
  const r: Record<string, ReturnType<typeof stats>> = {};
  for (const [k, v] of Object.entries(times)) {
    const s = (r[k] = stats(v));
    console.log(`${k.padEnd(8)} ${s.median.toFixed(1).padStart(9)} ${s.mean.toFixed(1).padStart(9)} ${s.min.toFixed(1).padStart(9)} ${s.max.toFixed(1).padStart(9)}`);
  }
  console.log(`driver / export-import = ${(r['driver']!.median / r['export']!.median).toFixed(3)} (medians)`);
}

await main();
