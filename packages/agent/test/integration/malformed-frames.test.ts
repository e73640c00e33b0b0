import { connect as http2Connect, constants } from 'node:http2';
import { connect } from 'node:net';
import { status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveReference, type Served } from '../helpers/serve.js';
import { spec } from '../helpers/specs.js';
import { checkHealth } from '../helpers/standard-clients.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** An HTTP/2 frame header (RFC 9113 §4.1) and its payload, cut at `keep` bytes when given. */
function frame(type: number, flags: number, stream: number, payload: Buffer, claimedLength = payload.length, keep?: number): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(claimedLength & 0xffffff, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(stream & 0x7fffffff, 5);
  const whole = Buffer.concat([header, payload]);
  return keep === undefined ? whole : whole.subarray(0, keep);
}

const SETTINGS = frame(4, 0, 0, Buffer.alloc(0));

/** Random bytes; a preface then random frames; a preface then a frame cut short. */
const rawInput = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 600 }).map((b) => Buffer.from(b)),
  fc
    .array(
      fc.record({ type: fc.nat({ max: 12 }), flags: fc.nat({ max: 255 }), stream: fc.nat({ max: 9 }), payload: fc.uint8Array({ maxLength: 200 }), lie: fc.boolean() }),
      { minLength: 1, maxLength: 6 },
    )
    .map((frames) => Buffer.concat([PREFACE, SETTINGS, ...frames.map((f) => frame(f.type, f.flags, f.stream, Buffer.from(f.payload), f.lie ? f.payload.length + 1000 : f.payload.length))])),
  fc
    .tuple(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat({ max: 208 }))
    .map(([payload, keep]) => Buffer.concat([PREFACE, SETTINGS, frame(1, 4, 1, Buffer.from(payload), payload.length, keep)])),
);

/** Write `bytes` to the socket and close; resolves when the agent has closed or answered. */
function throwAt(path: string, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = () => {
      socket.destroy();
      resolve();
    };
    socket.setTimeout(200, done);
    socket.on('error', done);
    socket.on('close', done);
    socket.on('data', () => undefined);
    socket.on('connect', () => socket.end(bytes));
  });
}

/** A gRPC request whose message body is `body` (5-byte length prefix claiming `claimed` bytes); the grpc-status it gets. */
function grpcBody(session: ReturnType<typeof http2Connect>, path: string, body: Buffer, claimed: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: path,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let code: number | undefined;
    const take = (headers: Record<string, unknown>) => {
      if (headers['grpc-status'] !== undefined) code = Number(headers['grpc-status']);
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('data', () => undefined);
    stream.on('close', () => (code === undefined ? reject(new Error(`no grpc-status on ${path}`)) : resolve(code)));
    stream.on('error', () => undefined);
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(claimed >>> 0, 1);
    stream.end(Buffer.concat([prefix, body]));
  });
}

describe('malformed and oversized input gets a clean answer and leaves the agent up', () => {
  let served: Served;
  beforeAll(async () => {
    served = await serveReference();
  });
  afterAll(async () => served.close());

  async function stillServing(): Promise<void> {
    expect(await checkHealth(`unix://${served.socket()}`)).toBe('SERVING');
    const remote = await served.connect();
    const s = spec();
    await remote.spawn(s);
    expect((await remote.getInfo(s.uuid)).powerState).toBe('RUNNING');
    await remote.cleanupHost();
  }

  it('500 random or truncated HTTP/2 byte streams on the socket', async () => {
    const inputs = fc.sample(rawInput, { numRuns: 500, seed: 7 });
    for (let i = 0; i < inputs.length; i += 50) await Promise.all(inputs.slice(i, i + 50).map((bytes) => throwAt(served.socket(), bytes)));
    await stillServing();
  });

  it('500 gRPC requests with random or truncated message bodies answer with a status, not a crash', async () => {
    const session = http2Connect('http://localhost', { createConnection: () => connect(served.socket()) });
    session.on('error', () => undefined);
    const paths = ['GetInfo', 'Spawn', 'AttachVolume', 'Reboot'].map((m) => `/nova_common.compute.v1.ComputeService/${m}`);
    const bodies = fc.sample(fc.tuple(fc.constantFrom(...paths), fc.uint8Array({ maxLength: 300 }), fc.integer({ min: -3, max: 3 })), { numRuns: 500, seed: 11 });
    const codes = new Map<number, number>();
    for (let i = 0; i < bodies.length; i += 50) {
      const answers = await Promise.all(
        bodies.slice(i, i + 50).map(([path, body, skew]) => grpcBody(session, path, Buffer.from(body), Math.max(0, body.length + (skew > 0 ? 0 : skew)))),
      );
      for (const c of answers) codes.set(c, (codes.get(c) ?? 0) + 1);
    }
    session.close();
    // No uuid and no request id in random bytes: none of these can succeed.
    expect(codes.get(status.OK) ?? 0).toBe(0);
    expect(codes.get(status.INVALID_ARGUMENT) ?? 0).toBeGreaterThan(100);
    expect([...codes.keys()].every((c) => [status.INVALID_ARGUMENT, status.INTERNAL, status.RESOURCE_EXHAUSTED, status.UNIMPLEMENTED].includes(c))).toBe(true);
    await stillServing();
  });

  it('a message over 4 MiB is refused with RESOURCE_EXHAUSTED (it is never read whole)', async () => {
    const session = http2Connect('http://localhost', { createConnection: () => connect(served.socket()) });
    session.on('error', () => undefined);
    const code = await grpcBody(session, '/nova_common.compute.v1.ComputeService/GetInfo', Buffer.alloc(64 * 1024), 5 * 1024 * 1024);
    session.close();
    expect(code).toBe(status.RESOURCE_EXHAUSTED);
    await stillServing();
  });
});
