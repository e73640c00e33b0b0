/**
 * An HTTP proxy on 127.0.0.1 in front of the real Ironic whose link can be cut and restored: while
 * cut it accepts no connection (refused) and drops any request that still arrives on an open one.
 * A test cuts it right after a chosen request was answered, so the driver meets the outage in the
 * wait that follows, while Ironic itself goes on working.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CuttableProxy {
  url: string;
  /** Requests forwarded so far, as `METHOD path`. */
  forwarded: string[];
  cut(): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** `cutAfter` says, for each request, whether to cut the link once its answer has been sent. */
export async function startCuttableProxy(target: string, cutAfter: (method: string, path: string, body: string) => boolean): Promise<CuttableProxy> {
  let down = false;
  const forwarded: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    if (down) {
      req.socket.destroy();
      return;
    }
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && !['host', 'connection', 'content-length', 'keep-alive'].includes(k)) headers[k] = v;
      }
      forwarded.push(`${req.method} ${req.url}`);
      const cutting = cutAfter(req.method ?? '', req.url ?? '', body);
      fetch(`${target}${req.url}`, { method: req.method, headers, body: body.length > 0 ? body : undefined, signal: AbortSignal.timeout(30_000) })
        .then(async (answer) => {
          const text = await answer.text();
          const out: Record<string, string> = {};
          answer.headers.forEach((v, k) => {
            if (!['transfer-encoding', 'connection', 'content-length', 'keep-alive', 'content-encoding'].includes(k)) out[k] = v;
          });
          res.writeHead(answer.status, out);
          res.end(text, () => {
            if (cutting) cut();
          });
        })
        .catch(() => req.socket.destroy());
    });
  });
  const cut = () => {
    down = true;
    server.close();
    server.closeIdleConnections();
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    forwarded,
    cut,
    restore: () =>
      new Promise<void>((resolve) => {
        down = false;
        server.listen(port, '127.0.0.1', resolve);
      }),
    close: () =>
      new Promise<void>((resolve) => {
        down = true;
        server.closeAllConnections();
        if (server.listening) server.close(() => resolve());
        else resolve();
      }),
  };
}
