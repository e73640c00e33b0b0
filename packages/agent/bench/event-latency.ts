/**
 * `pnpm --filter @nova-common/agent bench` (third part): event latency on dockerd, from a backend
 * change to the listener. A container of @nova-common/driver-container is killed out of band
 * (`POST /containers/<id>/kill` on the engine's socket, as `docker kill` does) and the clock runs
 * until its lifecycle event reaches:
 *   - in process: a listener of the driver in this process (same owner, so it watches the same
 *     container);
 *   - through the agent: a listener of the remote driver, whose agent (`nova-agent serve`, its own
 *     process, dist/cli.js: build first) serves the same driver on a unix socket.
 * Both listen at once, so one kill times both; the engine's own `die` event (GET /events) is timed
 * beside them, the floor under any driver. BENCH_KILLS rounds (default 30); goal: median
 * <= 50 ms through the agent. Needs dockerd (scripts/backends/docker.sh start).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guard, type GuardedDriver, type LifecycleEvent } from '@nova-common/core';
import { manifest } from '@nova-common/driver-container';
import { createRemoteDriver } from '../src/client/remote-driver.js';

const KILLS = Number(process.env['BENCH_KILLS'] ?? 30);
const DOCKER = '/var/run/docker.sock';
const IMAGE = 'nova-common/busybox:latest';
const CLI = join(import.meta.dirname, '../dist/cli.js');
const CONFIG = { socketPath: DOCKER, volumeRoot: '/tmp/nova-common/docker/volumes/agent', stateDir: '/tmp/nova-common/docker/agent-state/agent-remote', ownerId: 'agent-remote', namePrefix: 'ncr', stopTimeoutSeconds: 1 };

function docker(method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: DOCKER, method, path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The engine's own event stream (`GET /events`, container `die`): the floor under both drivers. */
function engineDies(): { next: (name: string) => Promise<number>; close: () => void } {
  let waiting: { name: string; resolve: (t: number) => void } | undefined;
  const filters = encodeURIComponent(JSON.stringify({ type: ['container'], event: ['die'] }));
  const req = request({ socketPath: DOCKER, method: 'GET', path: `/events?filters=${filters}` }, (res) => {
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      const now = performance.now();
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        const name = (JSON.parse(line) as { Actor?: { Attributes?: { name?: string } } }).Actor?.Attributes?.name;
        if (waiting !== undefined && name === waiting.name) {
          waiting.resolve(now);
          waiting = undefined;
        }
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return { next: (name) => new Promise((resolve) => (waiting = { name, resolve })), close: () => req.destroy() };
}

function startAgent(dir: string): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const socket = join(dir, 'agent.sock');
  const config = join(dir, 'driver.json');
  writeFileSync(config, JSON.stringify(CONFIG));
  const child = spawn(process.execPath, [CLI, 'serve', '--driver', '@nova-common/driver-container', '--config', config, '--listen', `unix://${socket}`, '--log-level', 'error'], {
    cwd: join(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes('"ready"'))
        resolve({
          endpoint: `unix://${socket}`,
          stop: () =>
            new Promise((done) => {
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
    });
    child.once('exit', (code) => reject(new Error(`the agent exited with ${code}`)));
  });
}

/** Resolves with the time the next out-of-band event for `uuid` (the container stopped: SHUTDOWN or CRASHED) reaches `driver`'s listener. */
function nextEvent(driver: GuardedDriver, uuid: string): Promise<number> {
  return new Promise((resolve) => {
    const off = driver.subscribeEvents((e: LifecycleEvent) => {
      if (e.uuid !== uuid || e.cause === 'requested' || e.powerState === 'RUNNING') return;
      off();
      resolve(performance.now());
    });
  });
}

const quantile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'pnpm --filter @nova-common/agent build' first`);
  if ((await docker('GET', '/_ping').catch(() => 0)) !== 200) throw new Error(`no dockerd on ${DOCKER}: run 'bash scripts/backends/docker.sh start'`);
  mkdirSync(CONFIG.volumeRoot, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'nova-agent-events-'));
  const agent = await startAgent(dir);
  const local = guard(manifest.create(manifest.configSchema.parse(CONFIG)));
  const remote = guard(createRemoteDriver({ endpoint: agent.endpoint }));
  const uuid = crypto.randomUUID();
  try {
    await local.initHost();
    await remote.initHost();
    // Both listen from the start (the remote stream is open before the first kill).
    const offLocal = local.subscribeEvents(() => undefined);
    const offRemote = remote.subscribeEvents(() => undefined);
    await remote.spawn({ uuid, name: 'events-bench', flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 64, rootGb: 1 }, image: { id: IMAGE, diskFormat: 'raw', containerFormat: 'docker' } });
    const container = `${CONFIG.namePrefix}-${uuid}`;
    const engine = engineDies();
    const viaEngine: number[] = [];
    const viaLocal: number[] = [];
    const viaRemote: number[] = [];
    for (let i = 0; i < KILLS + 2; i++) {
      // Let the guest's init settle, so the kill is what stops it.
      await new Promise((r) => setTimeout(r, 300));
      const seenEngine = engine.next(container);
      const seenLocal = nextEvent(local, uuid);
      const seenRemote = nextEvent(remote, uuid);
      const t0 = performance.now();
      const code = await docker('POST', `/containers/${container}/kill?signal=KILL`);
      if (code !== 204) throw new Error(`docker kill answered ${code}`);
      const [e, l, r] = await Promise.all([seenEngine, seenLocal, seenRemote]);
      // The first two rounds warm up the paths.
      if (i >= 2) {
        viaEngine.push(e - t0);
        viaLocal.push(l - t0);
        viaRemote.push(r - t0);
      }
      await remote.powerOn(uuid);
    }
    engine.close();
    offLocal();
    offRemote();
    console.log(`\nevent latency on dockerd: docker kill of the instance's container -> its out-of-band event at the listener, ${KILLS} kills\n`);
    console.log(`                     median ms   p90 ms   max ms`);
    console.log(`  engine's die event ${fmt(quantile(viaEngine, 0.5)).padStart(9)}   ${fmt(quantile(viaEngine, 0.9)).padStart(6)}   ${fmt(Math.max(...viaEngine)).padStart(6)}`);
    console.log(`  in process         ${fmt(quantile(viaLocal, 0.5)).padStart(9)}   ${fmt(quantile(viaLocal, 0.9)).padStart(6)}   ${fmt(Math.max(...viaLocal)).padStart(6)}`);
    console.log(`  through the agent  ${fmt(quantile(viaRemote, 0.5)).padStart(9)}   ${fmt(quantile(viaRemote, 0.9)).padStart(6)}   ${fmt(Math.max(...viaRemote)).padStart(6)}`);
    const m = quantile(viaRemote, 0.5);
    console.log(`\ngoal: median through the agent ${fmt(m)} ms ${m <= 50 ? 'meets' : 'misses'} <= 50 ms; the agent adds ${fmt(m - quantile(viaLocal, 0.5))} ms at the median`);
  } finally {
    await remote.destroy(uuid).catch(() => undefined);
    await remote.cleanupHost();
    await local.cleanupHost();
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
