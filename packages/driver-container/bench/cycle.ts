/**
 * The create/start/stop/remove cycle, three ways, side by side in one run (rounds interleaved so
 * machine noise hits all three alike):
 *   driver  spawn (create + start) -> powerOff -> destroy, through this driver behind core's guard
 *   cli     docker create -> docker start -> docker stop -> docker rm
 *   raw     the same four Engine API calls over the unix socket, nothing else
 * Every container is equivalent: same image, init, base network, resource limits, 1 s stop grace.
 * Goal: driver faster than the CLI, within 1.1x of the raw API.
 *
 *   pnpm bench                       (20 rounds)
 *   BENCH_ROUNDS=50 pnpm bench
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FlavorSchema, ImageMetaSchema, guard } from '@nova-common/core';
import { EngineClient } from '../src/client/engine-client.js';
import { buildContainerConfig } from '../src/mapping/container-config.js';
import { baseNetworkName } from '../src/mapping/networks.js';
import { createContainerDriver } from '../src/driver/driver.js';

const run = promisify(execFile);
const SOCKET = process.env['DOCKER_SOCKET'] ?? '/var/run/docker.sock';
const IMAGE = 'nova-common/busybox:latest';
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 20);
const OWNER = 'bench';
const naming = { namePrefix: 'nova', labelPrefix: 'io.nova-common', ownerId: OWNER };

function uuid(): string {
  return crypto.randomUUID();
}

const flavor = FlavorSchema.parse({ id: 'bench', name: 'bench', vcpus: 1, memoryMb: 64, rootGb: 0 });
const image = ImageMetaSchema.parse({ id: IMAGE, diskFormat: 'raw', containerFormat: 'docker' });

async function main(): Promise<void> {
  // Behind the guard, as every consumer runs a driver.
  const driver = guard(createContainerDriver({ socketPath: SOCKET, ownerId: OWNER, stopTimeoutSeconds: 1 }));
  await driver.initHost();
  const raw = new EngineClient({ socketPath: SOCKET });
  const version = await raw.negotiate();
  const info = await raw.info();
  const base = baseNetworkName(naming);
  const cli = (await run('docker', ['version', '--format', '{{.Client.Version}}'], { env: { ...process.env, DOCKER_HOST: `unix://${SOCKET}` } })).stdout.trim();
  const env = { ...process.env, DOCKER_HOST: `unix://${SOCKET}` };

  const body = (name: string) =>
    buildContainerConfig({
      naming: { ...naming, ownerId: `${OWNER}-raw` },
      imageRef: IMAGE,
      labels: { uuid: uuid(), name, metadata: {}, flavor, node: info.Name, image, volumes: [] },
      baseNetwork: base,
      hostCpus: info.NCPU,
      pidsLimit: 1024,
      init: true,
      stopTimeoutSeconds: 1,
    });

  const ways: Record<string, () => Promise<void>> = {
    driver: async () => {
      const id = uuid();
      await driver.spawn({ uuid: id, name: 'bench', flavor, image, metadata: {}, networkInfo: [], blockDeviceInfo: { ephemerals: [], volumes: [] }, powerOn: true });
      await driver.powerOff(id, { gracefulTimeoutMs: 1000 });
      await driver.destroy(id);
    },
    cli: async () => {
      const name = `nova-bench-cli-${uuid()}`;
      await run('docker', ['create', '--name', name, '--init', '--network', base, '--cpus', '1', '--memory', '64m', '--pids-limit', '1024',
        '--security-opt', 'no-new-privileges', '--stop-timeout', '1', '--label', 'io.nova-common.owner=bench-cli', IMAGE], { env });
      await run('docker', ['start', name], { env });
      await run('docker', ['stop', '-t', '1', name], { env });
      await run('docker', ['rm', '-f', name], { env });
    },
    raw: async () => {
      const name = `nova-bench-raw-${uuid()}`;
      const id = await raw.createContainer(name, body(name));
      await raw.startContainer(id);
      await raw.stopContainer(id, 1);
      await raw.removeContainer(id);
    },
  };

  const times: Record<string, number[]> = { driver: [], cli: [], raw: [] };
  // One warm-up round each (first network use, page cache), not counted.
  for (const w of Object.values(ways)) await w();
  for (let i = 0; i < ROUNDS; i++) {
    // Rotate the order every round so no way always runs first.
    const order = Object.keys(ways).slice(i % 3).concat(Object.keys(ways).slice(0, i % 3));
    for (const name of order) {
      const t0 = performance.now();
      await ways[name]!();
      times[name]!.push(performance.now() - t0);
    }
  }
  await driver.cleanupHost();
  await raw.close();

  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const median = s[Math.floor(s.length / 2)]!;
    const mean = s.reduce((a, b) => a + b, 0) / s.length;
    return { median, mean, min: s[0]!, max: s[s.length - 1]! };
  };
  const r = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, stats(v)])) as Record<string, ReturnType<typeof stats>>;
  console.log(`create/start/stop/remove cycle, ${ROUNDS} rounds each, interleaved; engine ${version.Version} (API ${version.ApiVersion}), docker CLI ${cli}`);
  console.log('way      median ms   mean ms    min ms    max ms');
  for (const [k, s] of Object.entries(r)) {
    console.log(`${k.padEnd(8)} ${s.median.toFixed(1).padStart(9)} ${s.mean.toFixed(1).padStart(9)} ${s.min.toFixed(1).padStart(9)} ${s.max.toFixed(1).padStart(9)}`);
  }
  const vsCli = r['driver']!.median / r['cli']!.median;
  const vsRaw = r['driver']!.median / r['raw']!.median;
  console.log(`driver / cli  = ${vsCli.toFixed(3)}  (goal < 1: ${vsCli < 1 ? 'met' : 'NOT met'})`);
  console.log(`driver / raw  = ${vsRaw.toFixed(3)}  (goal <= 1.1: ${vsRaw <= 1.1 ? 'met' : 'NOT met'})`);
}

await main();
