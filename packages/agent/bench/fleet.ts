/**
 * `pnpm --filter @nova-common/agent bench` (second part): scale by simulation, on the reference driver.
 *   - One client driving a fleet of agents, one `nova-agent serve` process each (dist/cli.js: build
 *     first), one channel per agent, BENCH_IN_FLIGHT calls in flight in all, spread over the agents
 *     round robin (getInfo and listInstances alternately) for BENCH_SECONDS: total calls/s, median
 *     and p99 latency, and the agents' memory (RSS).
 *   - One agent holding 10,000 instances: its RSS before and after the spawns.
 * BENCH_AGENTS (default 100) agents are started when the machine's free memory holds them at
 * BENCH_AGENT_MB (default 90) each; otherwise as many as do, and the report says so.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freemem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { guard, type GuardedDriver } from '@nova-common/core';
import { createRemoteDriver } from '../src/client/remote-driver.js';

const WANTED = Number(process.env['BENCH_AGENTS'] ?? 100);
const AGENT_MB = Number(process.env['BENCH_AGENT_MB'] ?? 90);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 15);
const IN_FLIGHT = Number(process.env['BENCH_IN_FLIGHT'] ?? 128);
const INSTANCES = Number(process.env['BENCH_INSTANCES'] ?? 10_000);
const CLI = join(import.meta.dirname, '../dist/cli.js');

interface Agent {
  child: ChildProcess;
  endpoint: string;
  stop(): Promise<void>;
}

function startAgent(dir: string, name: string, config?: unknown): Promise<Agent> {
  const socket = join(dir, `${name}.sock`);
  const args = [CLI, 'serve', '--driver', '@nova-common/core/testing', '--listen', `unix://${socket}`, '--log-level', 'error'];
  if (config !== undefined) {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(config));
    args.push('--config', file);
  }
  const child = spawn(process.execPath, args, { cwd: join(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      if (!b.toString().includes('"ready"')) return;
      resolve({
        child,
        endpoint: `unix://${socket}`,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
    child.once('exit', (code) => reject(new Error(`agent ${name} exited with ${code}`)));
  });
}

/** Resident memory of a process, in MiB (Linux /proc). */
function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line?.replace(/\D+/g, '') ?? 0) / 1024;
}

function percentile(xs: Float64Array, p: number): number {
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
}

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const SPEC = (uuid: string) => ({
  uuid,
  name: `fleet-${uuid.slice(0, 8)}`,
  flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 64, rootGb: 1 },
  image: { id: 'cirros', diskFormat: 'qcow2' as const, containerFormat: 'bare' as const },
  metadata: { role: 'bench' },
});

async function fleet(dir: string): Promise<void> {
  const fits = Math.floor(freemem() / (AGENT_MB * 1024 * 1024)) - 2;
  const count = Math.max(1, Math.min(WANTED, fits));
  if (count < WANTED) console.log(`free memory holds ${count} agents at ${AGENT_MB} MiB each, not ${WANTED}: measuring ${count}`);
  const agents: Agent[] = [];
  const drivers: GuardedDriver[] = [];
  const t0 = performance.now();
  try {
    // Started ten at a time: a burst of a hundred Node processes on a small machine only thrashes.
    for (let i = 0; i < count; i += 10) {
      agents.push(...(await Promise.all(Array.from({ length: Math.min(10, count - i) }, (_, j) => startAgent(dir, `fleet-${i + j}`)))));
    }
    const startSeconds = (performance.now() - t0) / 1000;
    const uuids: string[] = [];
    for (const agent of agents) {
      const d = guard(createRemoteDriver({ endpoint: agent.endpoint }));
      await d.initHost();
      const uuid = crypto.randomUUID();
      await d.spawn(SPEC(uuid));
      drivers.push(d);
      uuids.push(uuid);
    }
    // Warm-up, then the measured window.
    const drive = async (ms: number, record: boolean) => {
      const latencies: number[] = [];
      let next = 0;
      let calls = 0;
      const end = performance.now() + ms;
      const worker = async () => {
        while (performance.now() < end) {
          const i = next++ % drivers.length;
          const start = performance.now();
          await (next % 2 === 0 ? drivers[i]!.getInfo(uuids[i]!) : drivers[i]!.listInstances());
          if (record) latencies.push((performance.now() - start) * 1000);
          calls++;
        }
      };
      const began = performance.now();
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      return { latencies: Float64Array.from(latencies), perSecond: calls / ((performance.now() - began) / 1000) };
    };
    await drive(3000, false);
    const { latencies, perSecond } = await drive(SECONDS * 1000, true);
    const rss = agents.map((a) => rssMb(a.child.pid!));
    const total = rss.reduce((a, b) => a + b, 0);
    console.log(`\none client, ${count} agents (reference driver, one process each, started in ${fmt(startSeconds)} s), ${IN_FLIGHT} calls in flight over ${SECONDS} s (getInfo / listInstances)\n`);
    console.log(`  total calls/s        ${fmt(perSecond, 0)}`);
    console.log(`  median latency       ${fmt(percentile(latencies, 0.5) / 1000, 2)} ms`);
    console.log(`  p99 latency          ${fmt(percentile(latencies, 0.99) / 1000, 2)} ms`);
    console.log(`  agents' RSS          ${fmt(total, 0)} MiB in all, ${fmt(percentile(Float64Array.from(rss), 0.5))} MiB median each`);
    console.log(`  client's RSS         ${fmt(process.memoryUsage().rss / 1048576)} MiB`);
  } finally {
    for (const d of drivers) await d.cleanupHost().catch(() => undefined);
    await Promise.all(agents.map((a) => a.stop()));
  }
}

async function manyInstances(dir: string): Promise<void> {
  const capacity = { vcpus: INSTANCES, memoryMb: INSTANCES * 64, diskGb: INSTANCES, cpuAllocationRatio: 1, ramAllocationRatio: 1, diskAllocationRatio: 1 };
  const agent = await startAgent(dir, 'instances', { capacity });
  const driver = guard(createRemoteDriver({ endpoint: agent.endpoint }));
  try {
    await driver.initHost();
    await driver.listInstances();
    const before = rssMb(agent.child.pid!);
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < INSTANCES) {
          next++;
          await driver.spawn(SPEC(crypto.randomUUID()));
        }
      }),
    );
    const spawnSeconds = (performance.now() - t0) / 1000;
    const listed = (await driver.listInstances()).length;
    const after = rssMb(agent.child.pid!);
    console.log(`\none agent holding ${listed.toLocaleString('en-US')} instances (reference driver; spawned through the agent, 64 in flight, in ${fmt(spawnSeconds)} s)\n`);
    console.log(`  agent RSS before     ${fmt(before)} MiB`);
    console.log(`  agent RSS after      ${fmt(after)} MiB  (${fmt(((after - before) * 1024) / listed, 2)} KiB per instance, the request journal's entries included)`);
  } finally {
    await driver.cleanupHost();
    await agent.stop();
  }
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'pnpm --filter @nova-common/agent build' first`);
  const dir = mkdtempSync(join(tmpdir(), 'nova-agent-fleet-'));
  try {
    await fleet(dir);
    await manyInstances(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
