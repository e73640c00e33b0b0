/** A scripted HTTP server on 127.0.0.1 standing in for Ironic in unit tests. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Handler = (req: SeenRequest, res: ServerResponse) => void | Promise<void>;

export interface MockIronic {
  url: string;
  seen: SeenRequest[];
  /** Most connections open at once. */
  maxOpenSockets: number;
  handle(h: Handler): void;
  close(): Promise<void>;
}

export const RANGE_HEADERS = {
  'x-openstack-ironic-api-minimum-version': '1.1',
  'x-openstack-ironic-api-maximum-version': '1.82',
};

/** Ironic's error envelope: the inner JSON is a string inside `error_message`. */
export function ironicError(res: ServerResponse, status: number, faultstring: string): void {
  const inner = JSON.stringify({ faultcode: status >= 500 ? 'Server' : 'Client', faultstring, debuginfo: null });
  res.writeHead(status, { 'content-type': 'application/json', ...RANGE_HEADERS });
  res.end(JSON.stringify({ error_message: inner }));
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', ...RANGE_HEADERS });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

export async function startMockIronic(): Promise<MockIronic> {
  let handler: Handler = (_req, res) => json(res, 404, {});
  const seen: SeenRequest[] = [];
  let open = 0;
  const state = { maxOpenSockets: 0 };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(r);
      void Promise.resolve(handler(r, res)).catch(() => {
        res.writeHead(500);
        res.end();
      });
    });
  });
  server.on('connection', (socket) => {
    open++;
    state.maxOpenSockets = Math.max(state.maxOpenSockets, open);
    socket.on('close', () => open--);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    get maxOpenSockets() {
      return state.maxOpenSockets;
    },
    handle(h) {
      handler = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
