import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LibvirtConnection } from '../src/client/connection.js';
import { CallTimeoutError, ConnectionLostError, LibvirtError, CallAbortedError } from '../src/client/errors.js';
import { HEADER_SIZE, KEEPALIVE_PROGRAM, MessageStatus, MessageType, REMOTE_PROGRAM, decodeHeader, encodeMessage } from '../src/client/protocol/header.js';
import { Proc } from '../src/client/protocol/procedures.js';
import { XdrEncoder } from '../src/client/xdr/encoder.js';
import { createLibvirtDriver } from '../src/driver/driver.js';

/**
 * A fake libvirtd on a unix socket: answers the handshake, then does what each test says.
 * Lets the client's framing, timeouts, keepalive and reconnect be tested without a daemon.
 */
class FakeDaemon {
  readonly dir = mkdtempSync(join(tmpdir(), 'nova-fake-libvirtd-'));
  readonly path = join(this.dir, 'sock');
  server: Server | undefined;
  sockets = new Set<Socket>();
  received: { prog: number; proc: number; type: number }[] = [];
  onCall: (proc: number, serial: number, s: Socket) => void = (proc, serial, s) => this.reply(s, proc, serial);

  async start(): Promise<void> {
    this.server = createServer((s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      let buf = Buffer.alloc(0);
      s.on('data', (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 4 && buf.length >= buf.readUInt32BE(0)) {
          const frame = buf.subarray(0, buf.readUInt32BE(0));
          buf = buf.subarray(frame.length);
          const h = decodeHeader(frame);
          this.received.push({ prog: h.prog, proc: h.proc, type: h.type });
          if (h.prog !== REMOTE_PROGRAM) continue;
          if (h.proc === Proc.AUTH_LIST) this.reply(s, h.proc, h.serial, new XdrEncoder().array([0], (e, v) => e.int(v)).toBuffer());
          else if (h.proc === Proc.CONNECT_SUPPORTS_FEATURE) this.reply(s, h.proc, h.serial, new XdrEncoder().int(1).toBuffer());
          else if (h.proc === Proc.CONNECT_OPEN || h.proc === Proc.CONNECT_CLOSE) this.reply(s, h.proc, h.serial);
          else this.onCall(h.proc, h.serial, s);
        }
      });
    });
    await new Promise<void>((r) => this.server!.listen(this.path, r));
  }

  reply(s: Socket, proc: number, serial: number, body?: Buffer, status: number = MessageStatus.OK): void {
    s.write(encodeMessage({ prog: REMOTE_PROGRAM, vers: 1, proc, type: MessageType.REPLY, serial, status }, body));
  }

  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.dropAll();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

let fake: FakeDaemon | undefined;
let conn: LibvirtConnection | undefined;
afterEach(async () => {
  await conn?.close();
  await fake?.stop();
  conn = undefined;
  fake = undefined;
});

async function setup(opts: Partial<ConstructorParameters<typeof LibvirtConnection>[0]> = {}): Promise<{ f: FakeDaemon; c: LibvirtConnection }> {
  fake = new FakeDaemon();
  await fake.start();
  conn = new LibvirtConnection({ socketPath: fake.path, uri: 'test:///default', keepaliveIntervalMs: 0, reconnectInitialDelayMs: 20, ...opts });
  await conn.connect();
  return { f: fake, c: conn };
}

describe('LibvirtConnection against a fake daemon', () => {
  it('runs the handshake: AUTH_LIST, keepalive feature, CONNECT_OPEN', async () => {
    const { f } = await setup();
    expect(f.received.map((m) => m.proc)).toEqual([Proc.AUTH_LIST, Proc.CONNECT_SUPPORTS_FEATURE, Proc.CONNECT_OPEN]);
  });

  it('matches replies to calls by serial, also out of order', async () => {
    const { f, c } = await setup();
    const held: { proc: number; serial: number; s: Socket }[] = [];
    f.onCall = (proc, serial, s) => {
      held.push({ proc, serial, s });
      if (held.length === 2) for (const h of held.reverse()) f.reply(h.s, h.proc, h.serial, new XdrEncoder().int(h.proc).toBuffer());
    };
    const [a, b] = await Promise.all([c.call(Proc.NODE_GET_INFO), c.call(Proc.CONNECT_GET_HOSTNAME)]);
    expect(a.readInt32BE(0)).toBe(Proc.NODE_GET_INFO);
    expect(b.readInt32BE(0)).toBe(Proc.CONNECT_GET_HOSTNAME);
  });

  it('turns an ERROR reply into LibvirtError with the libvirt code', async () => {
    const { f, c } = await setup();
    f.onCall = (proc, serial, s) => {
      const body = new XdrEncoder().int(42).int(10).optional('Domain not found', (e, v) => e.string(v)).int(2).bool(false).bool(false).bool(false).bool(false).int(0).int(0).bool(false).toBuffer();
      f.reply(s, proc, serial, body, MessageStatus.ERROR);
    };
    const err = await c.call(Proc.DOMAIN_GET_STATE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibvirtError);
    expect((err as LibvirtError).code).toBe(42);
    expect((err as LibvirtError).message).toBe('Domain not found');
  });

  it('times a call out, and ignores its late reply', async () => {
    const { f, c } = await setup();
    let late: (() => void) | undefined;
    f.onCall = (proc, serial, s) => {
      late = () => f.reply(s, proc, serial);
    };
    await expect(c.call(Proc.NODE_GET_INFO, undefined, { timeoutMs: 50 })).rejects.toBeInstanceOf(CallTimeoutError);
    late!();
    f.onCall = (proc, serial, s) => f.reply(s, proc, serial, new XdrEncoder().int(7).toBuffer());
    expect((await c.call(Proc.NODE_GET_INFO)).readInt32BE(0)).toBe(7);
  });

  it('rejects a call whose AbortSignal fires', async () => {
    const { f, c } = await setup();
    f.onCall = () => undefined;
    const ac = new AbortController();
    const p = c.call(Proc.NODE_GET_INFO, undefined, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(CallAbortedError);
  });

  it('answers the daemon keepalive PING with a PONG', async () => {
    const { f } = await setup();
    const s = [...f.sockets][0]!;
    s.write(encodeMessage({ prog: KEEPALIVE_PROGRAM, vers: 1, proc: 1, type: MessageType.MESSAGE, serial: 0, status: 0 }));
    await new Promise((r) => setTimeout(r, 50));
    expect(f.received.some((m) => m.prog === KEEPALIVE_PROGRAM && m.proc === 2)).toBe(true);
  });

  it('declares a silent daemon dead after keepalive intervals, failing calls in flight', async () => {
    const { f, c } = await setup({ keepaliveIntervalMs: 40, keepaliveCount: 3, autoReconnect: false });
    f.onCall = () => undefined;
    const err = await c.call(Proc.NODE_GET_INFO, undefined, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionLostError);
    expect(f.received.filter((m) => m.prog === KEEPALIVE_PROGRAM && m.proc === 1).length).toBeGreaterThan(0);
  });

  it('fails calls in flight with ConnectionLostError when the daemon goes away, then reconnects', async () => {
    const { f, c } = await setup();
    f.onCall = () => undefined;
    const opened: boolean[] = [];
    c.on('open', ({ reconnect }) => opened.push(reconnect));
    const p = c.call(Proc.NODE_GET_INFO, undefined, { timeoutMs: 5_000 });
    f.dropAll();
    await expect(p).rejects.toBeInstanceOf(ConnectionLostError);
    f.onCall = (proc, serial, s) => f.reply(s, proc, serial, new XdrEncoder().int(9).toBuffer());
    for (let i = 0; i < 50 && !c.isOpen; i++) await new Promise((r) => setTimeout(r, 20));
    expect(opened).toEqual([true]);
    expect((await c.call(Proc.NODE_GET_INFO)).readInt32BE(0)).toBe(9);
  });

  it('reports frames shorter than a header as a protocol error and drops the connection', async () => {
    const { f, c } = await setup({ autoReconnect: false });
    f.onCall = (_p, _s, s) => s.write(Buffer.from([0, 0, 0, 8, 0, 0, 0, 0]));
    await expect(c.call(Proc.NODE_GET_INFO)).rejects.toBeInstanceOf(ConnectionLostError);
    expect(HEADER_SIZE).toBe(28);
  });
});

describe('driver errors without a daemon', () => {
  it('initHost against a missing socket is BACKEND_UNAVAILABLE', async () => {
    const d = createLibvirtDriver({ socketPath: '/nonexistent/libvirt-sock', connectTimeoutMs: 500 });
    await expect(d.initHost()).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });

  it('a daemon that never answers the handshake is TIMEOUT', async () => {
    const f = new FakeDaemon();
    fake = f;
    await f.start();
    f.server!.removeAllListeners('connection');
    f.server!.on('connection', (s) => f.sockets.add(s));
    const d = createLibvirtDriver({ socketPath: f.path, connectTimeoutMs: 200 });
    await expect(d.initHost()).rejects.toMatchObject({ code: 'TIMEOUT' });
    await d.cleanupHost();
  });
});
