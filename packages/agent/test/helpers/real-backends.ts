import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import type { SimulationHooks } from '@nova-common/conformance';
import type { ConformanceFixtures, DriverManifest } from '@nova-common/core';
import { runAgent, type RunningAgent } from './cli.js';
import { tempDir } from './serve.js';

/**
 * A real driver package served by a `nova-agent serve` process on a unix socket, as a host runs
 * it: the agent loads the package by name (a devDependency of this package), with the
 * configuration written to a file, and serves it without its capability gate so the driver's
 * own answers reach the caller (what a conformance run asks of it).
 */
export interface ServedPackage {
  readonly dir: string;
  readonly socket: string;
  readonly endpoint: string;
  running: RunningAgent;
  /** Start the agent again on the same socket, state directory and configuration (after a kill). */
  restart(): Promise<RunningAgent>;
  /** SIGTERM and wait; a killed agent is left as it is. Removes the directory. */
  close(): Promise<void>;
}

export async function servePackage(driver: string, config: unknown, extra: string[] = []): Promise<ServedPackage> {
  const dir = tempDir('nova-agent-real-');
  const socket = join(dir.dir, 'agent.sock');
  const configFile = join(dir.dir, 'driver.json');
  writeFileSync(configFile, JSON.stringify(config));
  const args = ['--driver', driver, '--config', configFile, '--listen', `unix://${socket}`, '--state-dir', dir.dir, '--no-capability-gate', '--log-level', 'warn', ...extra];
  const served: ServedPackage = {
    dir: dir.dir,
    socket,
    endpoint: `unix://${socket}`,
    running: await runAgent(args),
    async restart() {
      served.running = await runAgent(args);
      return served.running;
    },
    async close() {
      if (served.running.child.exitCode === null && served.running.child.signalCode === null) await served.running.stop();
      dir.remove();
    },
  };
  return served;
}

/**
 * The driver package's own conformance fixtures for this configuration (spec adapter, images,
 * volume files, backend hooks acting on the backend directly), built in this process from its
 * manifest: the remote driver has no backend to offer hooks for, the backend is the same host's.
 */
export async function packageFixtures(driver: string, config: unknown): Promise<{ fixtures: ConformanceFixtures; simulate: SimulationHooks }> {
  const { manifest } = (await import(driver)) as { manifest: DriverManifest };
  const parsed = manifest.configSchema.parse(config);
  const fixtures = (await manifest.conformanceFixtures?.(parsed)) ?? {};
  const backend = fixtures.backend;
  const simulate: SimulationHooks = {
    ...(backend?.crash ? { crash: (_d: unknown, uuid: string) => backend.crash!(uuid) } : {}),
    ...(backend?.loseState ? { noState: (_d: unknown, uuid: string) => backend.loseState!(uuid) } : {}),
  };
  return { fixtures, simulate };
}

/** dockerd on its socket with the test image, or a loud failure naming how to start it. */
export async function requireDockerd(): Promise<void> {
  try {
    const image = await dockerApi('GET', `/images/${encodeURIComponent(BUSYBOX_IMAGE)}/json`);
    if (image.status !== 200) throw new Error(`image ${BUSYBOX_IMAGE}: HTTP ${image.status}`);
  } catch (error) {
    throw new Error(`these tests need dockerd on ${DOCKER_SOCKET} with ${BUSYBOX_IMAGE}: run 'bash scripts/backends/docker.sh start'. Cause: ${(error as Error).message}`);
  }
  mkdirSync(DOCKER_VOLUME_ROOT, { recursive: true });
}

/** One call of the Docker Engine API on its unix socket: what an operator's tools do behind the driver's back. */
export function dockerApi(method: string, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: DOCKER_SOCKET, method, path, timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = text === '' ? undefined : JSON.parse(text);
        } catch {
          // a plain-text answer stays text
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** The containers (any state) carrying `label` (`key=value`), as the engine lists them. */
export async function containersLabelled(label: string): Promise<{ Id: string; Names: string[]; State: string; Labels: Record<string, string> }[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
  const r = await dockerApi('GET', `/containers/json?all=1&filters=${filters}`);
  if (r.status !== 200) throw new Error(`listing containers: HTTP ${r.status}`);
  return r.body as { Id: string; Names: string[]; State: string; Labels: Record<string, string> }[];
}

/**
 * Remove the networks the driver made for `owner` (its base network included) once none of its
 * containers is left: the engine's address pools are few (31 by default) and every owner's
 * networks hold one each, so a test gives them back when it ends.
 */
export async function removeOwnedNetworks(owner: string): Promise<string[]> {
  if ((await containersLabelled(`io.nova-common.owner=${owner}`)).length > 0) return [];
  const filters = encodeURIComponent(JSON.stringify({ label: [`io.nova-common.owner=${owner}`] }));
  const r = await dockerApi('GET', `/networks?filters=${filters}`);
  const removed: string[] = [];
  for (const n of (r.body ?? []) as { Name: string }[]) {
    if ((await dockerApi('DELETE', `/networks/${encodeURIComponent(n.Name)}`)).status < 300) removed.push(n.Name);
  }
  return removed;
}

export const DOCKER_SOCKET = '/var/run/docker.sock';
export const BUSYBOX_IMAGE = 'nova-common/busybox:latest';
/** The agent tests' own volume root: the drivers' fixtures make (and remove) a `conformance/` directory under it, apart from other suites'. */
export const DOCKER_VOLUME_ROOT = '/tmp/nova-common/docker/volumes/agent';
export const LIBVIRT_SOCKET = '/run/libvirt/libvirt-sock';
export const IRONIC_ENDPOINT = 'http://127.0.0.1:6385';

/** libvirtd answers on its socket, or a loud failure naming how to start it. */
export async function requireLibvirtd(): Promise<void> {
  const { LibvirtClient } = await import('@nova-common/driver-libvirt');
  const client = new LibvirtClient({ socketPath: LIBVIRT_SOCKET, uri: 'test:///default', keepaliveIntervalMs: 0 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`these tests need libvirtd on ${LIBVIRT_SOCKET}: run 'bash scripts/backends/libvirt.sh start'. Cause: ${(error as Error).message}`);
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** Ironic (fake hardware) answers on its API, or a loud failure naming how to start it. */
export async function requireIronic(): Promise<void> {
  let why = '';
  try {
    const res = await fetch(`${IRONIC_ENDPOINT}/v1/drivers`, { headers: { 'X-OpenStack-Ironic-API-Version': '1.78' }, signal: AbortSignal.timeout(5000) });
    if (res.ok && (await res.text()).includes('fake-hardware')) return;
    why = `HTTP ${res.status}`;
  } catch (error) {
    why = (error as Error).message;
  }
  throw new Error(`these tests need Ironic on ${IRONIC_ENDPOINT} (${why}): run 'bash scripts/backends/ironic.sh start'`);
}
