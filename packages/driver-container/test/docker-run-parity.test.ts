/**
 * The driver's create payload held against what `docker run -d` sends for the same instance, on a
 * real dockerd (scripts/backends/docker.sh start): one container made by the driver, one by the
 * docker CLI with the flags an operator would write for the same flavor, image, volume and VIF
 * (--memory, --memory-swap, --cpus, --pids-limit, --init, --security-opt, --ipc, --restart,
 * --stop-timeout, --network, --mount, --label, then `docker network connect --alias` for the VIF),
 * both inspected. Every HostConfig and Config field and every network endpoint must agree, except
 * the differences listed in DELIBERATE below, each with its reason (also in the README).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineClient } from '../src/client/engine-client.js';
import { BASE_IMAGE, makeVolumeFile, requireEngine, spec, testDriver, uuidv4 } from './helpers.js';

const run = promisify(execFile);
/** The CLI `docker.sh install` provides (docker.io); another one earlier on PATH may speak a newer API. */
const DOCKER = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
const OWNER = 'docker-run-parity';
const STOP_TIMEOUT = 2; // the test driver's stopTimeoutSeconds (helpers.ts)
const driver = testDriver(OWNER);
let client: EngineClient;
const cliContainers: string[] = [];
const instances: string[] = [];

/**
 * Fields allowed to differ, with why. Paths are `Config.<field>`, `HostConfig.<field>` or
 * `Network.<name>.<field>`; anything else that differs fails the test.
 */
const DELIBERATE: Record<string, string> = {
  'Config.Hostname':
    'neither sets a host name: the engine gives each container its own short id, so the two differ by construction (the guest sees its container id, not the instance name)',
};

interface Inspect {
  Id: string;
  Config: Record<string, unknown>;
  HostConfig: Record<string, unknown>;
  NetworkSettings: { Networks: Record<string, Record<string, unknown>> };
  Mounts: unknown[];
  State: { Running: boolean };
}

async function inspect(name: string): Promise<Inspect> {
  return (await client.request<Inspect>('GET', `/containers/${encodeURIComponent(name)}/json`)).body;
}

async function docker(args: string[]): Promise<string> {
  const { stdout } = await run(DOCKER, args, { timeout: 60_000, env: { ...process.env, DOCKER_HOST: `unix://${process.env['DOCKER_SOCKET'] ?? '/var/run/docker.sock'}` } });
  return stdout.trim();
}

/** An endpoint as far as the two can agree: the engine adds each container's short id to its aliases, and addresses are allocated. */
function endpoint(ep: Record<string, unknown>, id: string): Record<string, unknown> {
  const { EndpointID: _e, IPAddress: _ip, MacAddress: _mac, Gateway: _g, IPPrefixLen: _p, GlobalIPv6Address: _g6, GlobalIPv6PrefixLen: _p6, IPv6Gateway: _gw6, NetworkID: _n, ...rest } = ep;
  const aliases = ((rest.Aliases as string[] | null) ?? []).filter((a) => a !== id.slice(0, 12)).sort();
  return { ...rest, Aliases: aliases };
}

/**
 * A value with the engine's equivalent spellings of "none" made one: the API stores what the
 * client sent, and the CLI sends empty lists and maps where the driver sends nothing (null, [] and
 * {} mean the same to the engine: no DNS servers, no port bindings, ...).
 */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? null : v.map(canonical);
  if (v && typeof v === 'object') {
    const entries = Object.entries(v).map(([k, x]) => [k, canonical(x)] as const);
    return entries.length === 0 ? null : Object.fromEntries(entries);
  }
  return v ?? null;
}

/** The differing paths between two objects, one level deep under `prefix`. */
function differences(prefix: string, a: Record<string, unknown>, b: Record<string, unknown>): { path: string; driver: unknown; cli: unknown }[] {
  const out: { path: string; driver: unknown; cli: unknown }[] = [];
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (JSON.stringify(canonical(a[key])) !== JSON.stringify(canonical(b[key]))) out.push({ path: `${prefix}.${key}`, driver: a[key], cli: b[key] });
  }
  return out;
}

beforeAll(async () => {
  client = await requireEngine();
  await driver.initHost();
});

afterAll(async () => {
  for (const name of cliContainers) await docker(['rm', '-f', name]).catch(() => undefined);
  for (const uuid of instances) await driver.destroy(uuid).catch(() => undefined);
  await driver.cleanupHost();
  await client?.close();
});

describe('driver create payload vs docker run', () => {
  it('agrees with `docker run -d` with the equivalent flags on every HostConfig, Config and network field but the listed ones', async () => {
    const uuid = uuidv4();
    const volumeId = uuidv4();
    const vifId = uuidv4();
    const mac = 'fa:16:3e:0d:0c:01';
    const file = makeVolumeFile(`parity-${volumeId}.img`);
    instances.push(uuid);
    await driver.spawn(
      spec(uuid, {
        flavor: { id: 'parity', name: 'parity', vcpus: 1, memoryMb: 64, swapMb: 32, rootGb: 1 },
        networkInfo: [{ id: vifId, address: mac, network: { id: `parity-${uuid.slice(0, 8)}` } }],
        blockDeviceInfo: { volumes: [{ volumeId, deviceName: 'vdb', connectionInfo: { driverVolumeType: 'file', path: file } }] },
      }),
    );
    const ours = await inspect(`nova-${uuid}`);
    const base = `nova-${OWNER}-base`;
    const vifNetwork = Object.keys(ours.NetworkSettings.Networks).find((n) => n !== base);
    expect(vifNetwork, 'the VIF has a network of its own').toBeDefined();
    const labels = ours.Config.Labels as Record<string, string>;

    const cli = `nc-parity-cli-${uuid.slice(0, 8)}`;
    cliContainers.push(cli);
    await docker([
      'run', '-d', '--name', cli,
      '--memory', '64m', '--memory-swap', `${64 + 32}m`, '--cpus', '1', '--pids-limit', '1024',
      '--init', '--security-opt', 'no-new-privileges', '--ipc', 'private', '--restart', 'no',
      '--stop-timeout', String(STOP_TIMEOUT), '--network', base,
      '--mount', `type=bind,source=${file},target=/volumes/${volumeId}`,
      ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      BASE_IMAGE,
    ]);
    await docker(['network', 'connect', '--alias', `nova-vif-${vifId}`, '--alias', `nova-mac-${mac.replace(/:/g, '')}`, vifNetwork!, cli]);
    const theirs = await inspect(cli);

    const diffs = [
      ...differences('HostConfig', ours.HostConfig, theirs.HostConfig),
      ...differences('Config', ours.Config, theirs.Config),
      ...differences('Mounts', { all: ours.Mounts }, { all: theirs.Mounts }),
      ...differences('Network', Object.fromEntries(Object.entries(ours.NetworkSettings.Networks).map(([n, ep]) => [n, endpoint(ep, ours.Id)])), Object.fromEntries(Object.entries(theirs.NetworkSettings.Networks).map(([n, ep]) => [n, endpoint(ep, theirs.Id)]))),
    ];
    const unexpected = diffs.filter((d) => !(d.path in DELIBERATE));
    expect(unexpected).toEqual([]);
    // The listed differences are real ones (the list names nothing that agrees).
    expect(diffs.map((d) => d.path).sort()).toEqual(Object.keys(DELIBERATE).sort());
    // And what they agree on is what the driver means to send.
    expect(theirs.State.Running && ours.State.Running).toBe(true);
    expect(ours.HostConfig).toMatchObject({ Memory: 64 * 2 ** 20, MemorySwap: 96 * 2 ** 20, NanoCpus: 1e9, PidsLimit: 1024, Init: true, Privileged: false, NetworkMode: base, RestartPolicy: { Name: 'no' } });
  });
});
