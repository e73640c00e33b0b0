/**
 * `pnpm --filter @nova-common/agent bench`: getInfo on the reference driver, side by side in one
 * run, interleaved round by round:
 *   - in process: the guarded reference driver (what a Node consumer calls today);
 *   - through the agent: the guarded remote driver -> unix socket -> `nova-agent serve` (its own
 *     process) -> guard -> reference driver.
 *   - the transport's floor: a bare grpc-js echo server in its own process on a unix socket,
 *     answering the same number of bytes as getInfo (what any grpc-js service costs here);
 *   - HTTP/2's floor: a bare node:http2 server in its own process on a unix socket answering as
 *     many bytes, no gRPC framing, metadata or deadlines (what any HTTP/2 service in Node costs
 *     here, grpc-js or another gRPC library built on node:http2).
 * Each round runs N calls with 64 in flight on one connection (one channel) and records every
 * call's latency; it also measures one call at a time. Prints medians (us) and calls/s next to
 * the goals (<= 100 us median, >= 10,000 calls/s through the agent).
 *
 * The 64 calls in flight go to 64 instances, call i to instance i mod 64: the guard serialises
 * the calls on one instance (the contract's per-instance order), so 64 calls on one instance are
 * one call at a time on the wire, whatever the caller keeps in flight. One instance's queue is
 * printed as its own row, so what the serialisation costs a caller who polls one instance is seen.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { createConnection } from 'node:net';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { guard } from '@nova-common/core';
import { createReferenceDriver } from '@nova-common/core/testing';
import { createRemoteDriver } from '../src/client/remote-driver.js';
import { fmt, median, run, startAgent, startProcess, type Target } from './lib.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const CALLS = Number(process.env['BENCH_CALLS'] ?? 20_000);
const SEQUENTIAL = Number(process.env['BENCH_SEQUENTIAL'] ?? 2000);
const IN_FLIGHT = 64;

const NAMES = ['local', 'http2', 'floor', 'remote'] as const;
type Name = (typeof NAMES)[number];

const SPEC = {
  uuid: '6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f',
  name: 'bench',
  flavor: { id: 'm1', name: 'm1', vcpus: 1, memoryMb: 512, rootGb: 1 },
  image: { id: 'cirros', diskFormat: 'qcow2' as const, containerFormat: 'bare' as const },
  metadata: { a: '1', b: '2' },
};

/** The 64 instances the calls in flight spread over: SPEC with its last 2 hex digits replaced. */
const UUIDS = Array.from({ length: IN_FLIGHT }, (_, i) => SPEC.uuid.slice(0, -2) + i.toString(16).padStart(2, '0'));

const startReferenceAgent = (dir: string) => startAgent(dir, ['--driver', '@nova-common/core/testing']);

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

/** HTTP/2's floor: node:http2 answering a fixed buffer to every request, nothing else. */
const HTTP2_ECHO = `
const http2 = require('node:http2');
const answer = Buffer.alloc(Number(process.argv[2]));
const server = http2.createServer();
server.on('stream', (stream) => {
  stream.on('data', () => {});
  stream.on('end', () => { stream.respond({ ':status': 200, 'content-type': 'application/grpc' }); stream.end(answer); });
});
server.listen(process.argv[1], () => console.log('ready'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;
const startHttp2Echo = (dir: string, bytes: number) => {
  const socket = join(dir, 'http2.sock');
  return startProcess(['-e', HTTP2_ECHO, socket, String(bytes)], socket);
};

/** One POST of `body` on `session`, resolved with the answer's bytes. */
function http2Call(session: ClientHttp2Session, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/bench.Echo/Get', 'content-type': 'application/grpc' });
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
    stream.end(body);
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nova-agent-bench-'));
  const agent = await startReferenceAgent(dir);
  // getInfo's answer on the wire is about this many bytes for SPEC.
  const echo = await startEcho(dir, 160);
  const echoClient = new Client(`unix://${echo.socket}`, credentials.createInsecure(), { 'grpc.enable_channelz': 0 });
  const http2Echo = await startHttp2Echo(dir, 160);
  const http2Session = http2Connect('http://localhost', { createConnection: () => createConnection(http2Echo.socket) });
  try {
    const local = guard(createReferenceDriver());
    await local.initHost();
    const remote = guard(createRemoteDriver({ endpoint: `unix://${agent.socket}` }));
    await remote.initHost();
    for (const uuid of UUIDS) {
      await local.spawn({ ...SPEC, uuid });
      await remote.spawn({ ...SPEC, uuid });
    }
    const id = (b: Buffer) => b;
    const request = Buffer.alloc(40);
    const echo: Target = () => new Promise((resolve, reject) => echoClient.makeUnaryRequest('/bench.Echo/Get', id, id, request, new Metadata(), {}, (e, v) => (e ? reject(e) : resolve(v))));
    // [name, 64 instances, one instance (the floors have no instances: the same echo)]
    const targets: [Name, Target, Target][] = [
      ['local', (i) => local.getInfo(UUIDS[i % IN_FLIGHT]!), () => local.getInfo(UUIDS[0]!)],
      ['http2', () => http2Call(http2Session, request), () => http2Call(http2Session, request)],
      ['floor', echo, echo],
      ['remote', (i) => remote.getInfo(UUIDS[i % IN_FLIGHT]!), () => remote.getInfo(UUIDS[0]!)],
    ];

    // Warm-up: JIT, the HTTP/2 connections, the guard's caches.
    for (const [, call] of targets) await run(call, 5000, IN_FLIGHT);

    const results = Object.fromEntries(NAMES.map((n) => [n, { lat: [] as number[], seq: [] as number[], rates: [] as number[], oneInstance: [] as number[] }])) as Record<
      Name,
      { lat: number[]; seq: number[]; rates: number[]; oneInstance: number[] }
    >;
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, call, sameInstance] of targets) {
        const concurrent = await run(call, CALLS, IN_FLIGHT);
        const sequential = await run(sameInstance, SEQUENTIAL, 1);
        const queued = await run(sameInstance, SEQUENTIAL, IN_FLIGHT);
        results[name].lat.push(...concurrent.latencies);
        results[name].seq.push(...sequential.latencies);
        results[name].rates.push(concurrent.perSecond);
        results[name].oneInstance.push(queued.perSecond);
      }
    }
    await remote.cleanupHost();
    echoClient.close();
    http2Session.close();

    const rows = [
      ['', 'in process (guarded)', 'node:http2 floor (echo)', 'grpc-js floor (echo)', 'through the agent', 'goal (agent)'],
      ['median us, 64 in flight', ...NAMES.map((n) => fmt(median(results[n].lat))), ''],
      ['calls/s, 64 in flight', ...NAMES.map((n) => fmt(median(results[n].rates), 0)), '>= 10,000'],
      ['median us, 1 in flight', ...NAMES.map((n) => fmt(median(results[n].seq))), '<= 100'],
      ['calls/s, 64 in flight on 1 instance', ...NAMES.map((n) => fmt(median(results[n].oneInstance), 0)), ''],
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    console.log(`\ngetInfo on the reference driver: ${ROUNDS} rounds x ${CALLS} calls (64 in flight on 64 instances, one connection) + ${SEQUENTIAL} one at a time, interleaved\n`);
    for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   '));
    const remoteSeq = median(results.remote.seq);
    const remoteRate = median(results.remote.rates);
    console.log(
      `\nthrough the agent vs in process: ${fmt(remoteSeq / median(results.local.seq))}x the latency one at a time, ${fmt(median(results.local.rates) / remoteRate)}x fewer calls/s at 64 in flight`,
    );
    console.log(
      `through the agent vs the grpc-js floor: ${fmt(remoteSeq / median(results.floor.seq))}x the latency one at a time, ${fmt(median(results.floor.rates) / remoteRate)}x fewer calls/s at 64 in flight`,
    );
    console.log(
      `the grpc-js floor vs node:http2's: ${fmt(median(results.floor.seq) / median(results.http2.seq))}x the latency one at a time, ${fmt(median(results.http2.rates) / median(results.floor.rates))}x fewer calls/s at 64 in flight`,
    );
    console.log(`goals: median one at a time ${fmt(remoteSeq)} us ${remoteSeq <= 100 ? 'meets' : 'misses'} <= 100 us; ${fmt(remoteRate, 0)} calls/s ${remoteRate >= 10_000 ? 'meets' : 'misses'} >= 10,000`);
  } finally {
    await echo.stop();
    await http2Echo.stop();
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
