/**
 * `pnpm --filter @nova-common/agent bench`: getInfo on the reference driver, side by side in one
 * run, interleaved round by round:
 *   - in process: the guarded reference driver (what a Node consumer calls today);
 *   - through the agent: the guarded remote driver -> unix socket -> `nova-agent serve` (its own
 *     process) -> guard -> reference driver.
 *   - the transport's floor: a bare grpc-js echo server in its own process on a unix socket,
 *     answering the same number of bytes as getInfo (what any grpc-js service costs here).
 * Each round runs N calls with 64 in flight on one connection (one channel) and records every
 * call's latency; it also measures one call at a time. Prints medians (us) and calls/s next to
 * the goals (<= 100 us median, >= 10,000 calls/s through the agent).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { guard, type GuardedDriver } from '@nova-common/core';
import { createReferenceDriver } from '@nova-common/core/testing';
import { createRemoteDriver } from '../src/client/remote-driver.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const CALLS = Number(process.env['BENCH_CALLS'] ?? 20_000);
const SEQUENTIAL = Number(process.env['BENCH_SEQUENTIAL'] ?? 2000);
const IN_FLIGHT = 64;

const NAMES = ['local', 'floor', 'remote'] as const;
type Name = (typeof NAMES)[number];

const SPEC = {
  uuid: '6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f',
  name: 'bench',
  flavor: { id: 'm1', name: 'm1', vcpus: 1, memoryMb: 512, rootGb: 1 },
  image: { id: 'cirros', diskFormat: 'qcow2' as const, containerFormat: 'bare' as const },
  metadata: { a: '1', b: '2' },
};

function median(xs: number[]): number {
  const s = Float64Array.from(xs).sort();
  return s[Math.floor(s.length / 2)]!;
}

type Target = () => Promise<unknown>;

/** N calls, `inFlight` at a time; every latency in us, and the calls per second. */
async function run(call: Target, n: number, inFlight: number): Promise<{ latencies: number[]; perSecond: number }> {
  const latencies = new Array<number>(n);
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const t0 = performance.now();
      await call();
      latencies[i] = (performance.now() - t0) * 1000;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { latencies, perSecond: n / ((performance.now() - started) / 1000) };
}

/** A process printing `ready` once it listens on `socket`. */
async function startProcess(args: string[], socket: string): Promise<{ socket: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, args, { cwd: join(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => (b.toString().includes('ready') ? resolve() : undefined));
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  return {
    socket,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const startAgent = (dir: string) => {
  const socket = join(dir, 'agent.sock');
  return startProcess(['--import', 'tsx', join(import.meta.dirname, '../src/cli.ts'), 'serve', '--driver', '@nova-common/core/testing', '--listen', `unix://${socket}`, '--log-level', 'error'], socket);
};

/** The floor: grpc-js answering a fixed buffer, nothing else. */
const ECHO = `
const grpc = require('@grpc/grpc-js');
const id = (b) => b;
const server = new grpc.Server();
const answer = Buffer.alloc(Number(process.argv[2]));
server.addService({ get: { path: '/bench.Echo/Get', requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } }, { get: (call, cb) => cb(null, answer) });
server.bindAsync('unix://' + process.argv[1], grpc.ServerCredentials.createInsecure(), () => console.log('ready'));
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
`;
const startEcho = (dir: string, bytes: number) => {
  const socket = join(dir, 'echo.sock');
  return startProcess(['-e', ECHO, socket, String(bytes)], socket);
};

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nova-agent-bench-'));
  const agent = await startAgent(dir);
  // getInfo's answer on the wire is about this many bytes for SPEC.
  const echo = await startEcho(dir, 160);
  const echoClient = new Client(`unix://${echo.socket}`, credentials.createInsecure(), { 'grpc.enable_channelz': 0 });
  try {
    const local = guard(createReferenceDriver());
    await local.initHost();
    await local.spawn(SPEC);
    const remote = guard(createRemoteDriver({ endpoint: `unix://${agent.socket}` }));
    await remote.initHost();
    await remote.spawn(SPEC);
    const id = (b: Buffer) => b;
    const request = Buffer.alloc(40);
    const targets: [Name, Target][] = [
      ['local', () => local.getInfo(SPEC.uuid)],
      ['floor', () => new Promise((resolve, reject) => echoClient.makeUnaryRequest('/bench.Echo/Get', id, id, request, new Metadata(), {}, (e, v) => (e ? reject(e) : resolve(v))))],
      ['remote', () => remote.getInfo(SPEC.uuid)],
    ];

    // Warm-up: JIT, the HTTP/2 connections, the guard's caches.
    for (const [, call] of targets) await run(call, 5000, IN_FLIGHT);

    const results = Object.fromEntries(NAMES.map((n) => [n, { lat: [] as number[], seq: [] as number[], rates: [] as number[] }])) as Record<Name, { lat: number[]; seq: number[]; rates: number[] }>;
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, call] of targets) {
        const concurrent = await run(call, CALLS, IN_FLIGHT);
        const sequential = await run(call, SEQUENTIAL, 1);
        results[name].lat.push(...concurrent.latencies);
        results[name].seq.push(...sequential.latencies);
        results[name].rates.push(concurrent.perSecond);
      }
    }
    await remote.cleanupHost();
    echoClient.close();

    const rows = [
      ['', 'in process (guarded)', 'grpc-js floor (echo)', 'through the agent', 'goal (agent)'],
      ['median us, 64 in flight', ...NAMES.map((n) => fmt(median(results[n].lat))), ''],
      ['calls/s, 64 in flight', ...NAMES.map((n) => fmt(median(results[n].rates), 0)), '>= 10,000'],
      ['median us, 1 in flight', ...NAMES.map((n) => fmt(median(results[n].seq))), '<= 100'],
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    console.log(`\ngetInfo on the reference driver: ${ROUNDS} rounds x ${CALLS} calls (64 in flight, one connection) + ${SEQUENTIAL} one at a time, interleaved\n`);
    for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   '));
    const remoteSeq = median(results.remote.seq);
    const remoteRate = median(results.remote.rates);
    console.log(
      `\nthrough the agent vs in process: ${fmt(remoteSeq / median(results.local.seq))}x the latency one at a time, ${fmt(median(results.local.rates) / remoteRate)}x fewer calls/s at 64 in flight`,
    );
    console.log(
      `through the agent vs the grpc-js floor: ${fmt(remoteSeq / median(results.floor.seq))}x the latency one at a time, ${fmt(median(results.floor.rates) / remoteRate)}x fewer calls/s at 64 in flight`,
    );
    console.log(`goals: median one at a time ${fmt(remoteSeq)} us ${remoteSeq <= 100 ? 'meets' : 'misses'} <= 100 us; ${fmt(remoteRate, 0)} calls/s ${remoteRate >= 10_000 ? 'meets' : 'misses'} >= 10,000`);
  } finally {
    await echo.stop();
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
