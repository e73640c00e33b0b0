import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HoldingProxy, type ProxyAddress } from './holding-proxy.js';
import { tempDir } from './serve.js';

/**
 * The proxy the agent-killed tests put in front of dockerd (unix socket) and Ironic (TCP): it
 * must find a request however the client's bytes are cut (keep-alive puts several requests on
 * one connection, a request may come in several writes) and hold exactly that one.
 */
describe('HoldingProxy', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** An HTTP backend that records what it received and answers `<method> <url> <body>`. */
  async function backend(at: 'unix' | 'tcp'): Promise<{ address: ProxyAddress; seen: string[] }> {
    const seen: string[] = [];
    const server: Server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (b: Buffer) => (body += b.toString()));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        res.end(`${req.method} ${req.url} ${body}`);
      });
    });
    if (at === 'unix') {
      const dir = tempDir('holding-proxy-');
      const path = join(dir.dir, 'backend.sock');
      server.listen(path);
      await once(server, 'listening');
      cleanups.push(() => dir.remove(), () => new Promise<void>((r) => server.close(() => r())));
      return { address: path, seen };
    }
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    return { address: { host: '127.0.0.1', port: (server.address() as AddressInfo).port }, seen };
  }

  async function proxyTo(target: ProxyAddress, at: 'unix' | 'tcp'): Promise<{ proxy: HoldingProxy; client: () => Socket }> {
    const dir = tempDir('holding-proxy-');
    const proxy = new HoldingProxy(at === 'unix' ? join(dir.dir, 'proxy.sock') : { host: '127.0.0.1', port: 0 }, target);
    await proxy.listen();
    cleanups.push(() => dir.remove(), () => proxy.close());
    return { proxy, client: () => (at === 'unix' ? connect(proxy.path) : connect(proxy.port, '127.0.0.1')) };
  }

  /** Collects what the socket receives. */
  function received(socket: Socket): { text: () => string } {
    let text = '';
    socket.on('data', (b: Buffer) => (text += b.toString()));
    return { text: () => text };
  }

  const put = (path: string, body: string) => `PUT ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

  for (const at of ['unix', 'tcp'] as const) {
    it(`${at}: holds the request whose body matches on a keep-alive connection, headers and body in separate writes; forwarded, it reaches the backend`, async () => {
      const { address, seen } = await backend(at);
      const { proxy, client } = await proxyTo(address, at);
      const held = proxy.holdNext((r) => r.requestLine.startsWith('PUT /states ') && r.body.includes('"active"'));
      const socket = client();
      cleanups.push(() => void socket.destroy());
      const answers = received(socket);
      await once(socket, 'connect');
      // The first PUT does not match (its body says deleted); the second is cut mid-header and before its body.
      const second = put('/states', '{"target":"active"}');
      socket.write(put('/states', '{"target":"deleted"}') + second.slice(0, 10));
      await until(() => seen.length === 1);
      socket.write(second.slice(10, second.indexOf('\r\n\r\n') + 4));
      await new Promise((r) => setTimeout(r, 50));
      socket.write(second.slice(second.indexOf('\r\n\r\n') + 4) + 'GET /after HTTP/1.1\r\nHost: x\r\n\r\n');
      const request = await held;
      expect(request.requestLine).toBe('PUT /states HTTP/1.1');
      expect(request.body).toBe('{"target":"active"}');
      await new Promise((r) => setTimeout(r, 100));
      // Held: neither it nor the request behind it on the same connection reached the backend.
      expect(seen).toStrictEqual(['PUT /states {"target":"deleted"}']);
      request.forward();
      await until(() => seen.length === 3);
      expect(seen).toStrictEqual(['PUT /states {"target":"deleted"}', 'PUT /states {"target":"active"}', 'GET /after ']);
      await until(() => answers.text().includes('GET /after'));
    });
  }

  it('drops a held request: the backend never sees it and the caller\'s connection is closed; a chunked body is matched on its content', async () => {
    const { address, seen } = await backend('tcp');
    const { proxy, client } = await proxyTo(address, 'tcp');
    const held = proxy.holdNext((r) => r.body.includes('hold me'));
    const socket = client();
    await once(socket, 'connect');
    socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    socket.write('7\r\nhold me\r\n0\r\n\r\n');
    const request = await held;
    expect(request.requestLine).toBe('POST /upload HTTP/1.1');
    const closed = once(socket, 'close');
    request.drop();
    await closed;
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toStrictEqual([]);
  });
});

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`condition not reached in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
