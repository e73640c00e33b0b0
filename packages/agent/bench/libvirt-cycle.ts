/**
 * `pnpm --filter @nova-common/agent bench`: one instance's spawn + destroy on libvirt's test driver
 * (through libvirtd), side by side in one run, interleaved round by round (which side goes first
 * alternates):
 *   - direct: driver-libvirt behind the guard in this process;
 *   - through the agent: the guarded remote driver -> unix socket -> `nova-agent serve` (its own
 *     process) -> guard -> driver-libvirt, with the request journal in memory;
 *   - the same with `--state-dir`: the journal written and fsync'd before and after every
 *     mutating call, as a deployed agent does (what a retried spawn never spawning twice costs).
 * Every driver talks to the same libvirtd on `test:///default`, under a name prefix of its own.
 * Prints the median times of each, the median of the rounds' ratios to direct, and the goal
 * (<= 1.2x).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { guard, type GuardedDriver, type InstanceSpecInput } from '@nova-common/core';
import { createLibvirtDriver } from '@nova-common/driver-libvirt';
import { createRemoteDriver } from '../src/client/remote-driver.js';
import { fmt, median, startAgent } from './lib.js';

const SOCKET = process.env['LIBVIRT_SOCKET'] ?? '/run/libvirt/libvirt-sock';
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const CYCLES = Number(process.env['BENCH_CYCLES'] ?? 40);
const GOAL = 1.2;

const spec = (): InstanceSpecInput => ({
  uuid: randomUUID(),
  name: 'bench',
  flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 1 },
  image: { id: 'img', diskFormat: 'raw', containerFormat: 'bare' },
});

async function requireLibvirtd(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = createConnection(SOCKET, () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => reject(new Error(`libvirtd is not reachable at ${SOCKET}: run scripts/backends/libvirt.sh start (${err.message})`)));
  });
}

interface Timings {
  cycle: number[];
  spawn: number[];
  destroy: number[];
}

/** `n` spawn + destroy cycles, one at a time; every step's time in ms. */
async function cycles(driver: GuardedDriver, n: number, into: Timings): Promise<number> {
  const roundCycles: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = spec();
    const t0 = performance.now();
    await driver.spawn(s);
    const t1 = performance.now();
    await driver.destroy(s.uuid);
    const t2 = performance.now();
    into.spawn.push(t1 - t0);
    into.destroy.push(t2 - t1);
    into.cycle.push(t2 - t0);
    roundCycles.push(t2 - t0);
  }
  return median(roundCycles);
}

const SIDES = ['direct', 'agent', 'journal'] as const;
type Side = (typeof SIDES)[number];
const HEADINGS: Record<Side, string> = { direct: 'direct (guarded)', agent: 'agent, journal in memory', journal: 'agent, journal on disk' };

async function main(): Promise<void> {
  await requireLibvirtd();
  const dir = mkdtempSync(join(tmpdir(), 'nova-agent-libvirt-bench-'));
  const agentConfig = (prefix: string) => {
    const file = join(dir, `${prefix}.json`);
    writeFileSync(file, JSON.stringify({ uri: 'test:///default', socketPath: SOCKET, namePrefix: `bench-${prefix}-` }));
    return file;
  };
  const agents = [
    await startAgent(join(dir, 'memory'), ['--driver', '@nova-common/driver-libvirt', '--config', agentConfig('memory')]),
    await startAgent(join(dir, 'disk'), ['--driver', '@nova-common/driver-libvirt', '--config', agentConfig('disk'), '--state-dir', join(dir, 'disk', 'state')]),
  ];
  const drivers: Record<Side, GuardedDriver> = {
    direct: guard(createLibvirtDriver({ uri: 'test:///default', socketPath: SOCKET, namePrefix: 'bench-direct-' })),
    agent: guard(createRemoteDriver({ endpoint: `unix://${agents[0]!.socket}` })),
    journal: guard(createRemoteDriver({ endpoint: `unix://${agents[1]!.socket}` })),
  };
  try {
    const results = {} as Record<Side, Timings>;
    const ratios = {} as Record<Side, number[]>;
    for (const side of SIDES) {
      await drivers[side].initHost();
      // Warm-up: JIT, connections, the guard's caches.
      await cycles(drivers[side], 10, { cycle: [], spawn: [], destroy: [] });
      results[side] = { cycle: [], spawn: [], destroy: [] };
      ratios[side] = [];
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? SIDES : [...SIDES].reverse();
      const medians = {} as Record<Side, number>;
      for (const side of order) medians[side] = await cycles(drivers[side], CYCLES, results[side]);
      for (const side of SIDES) ratios[side].push(medians[side] / medians.direct);
    }

    console.log(`\nspawn + destroy on libvirt's test driver: ${ROUNDS} rounds x ${CYCLES} cycles, one at a time, interleaved\n`);
    const rows = [
      ['median ms', ...SIDES.map((side) => HEADINGS[side])],
      ...(['spawn', 'destroy', 'cycle'] as const).map((step) => [step, ...SIDES.map((side) => fmt(median(results[side][step]), 2))]),
      ['cycle vs direct', ...SIDES.map((side) => `${fmt(median(ratios[side]), 2)}x`)],
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   '));
    for (const side of ['agent', 'journal'] as const) {
      const ratio = median(ratios[side]);
      console.log(`${HEADINGS[side]} vs direct, median of the rounds' ratios: ${fmt(ratio, 2)}x (rounds: ${ratios[side].map((r) => fmt(r, 2)).join(', ')}); goal <= ${GOAL}x: ${ratio <= GOAL ? 'met' : 'missed'}`);
    }
  } finally {
    for (const side of SIDES) await drivers[side].cleanupHost().catch(() => undefined);
    for (const agent of agents) await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
