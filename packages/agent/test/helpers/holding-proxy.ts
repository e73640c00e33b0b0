import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** Where the proxy listens or connects: a unix socket path, or a loopback TCP address (port 0 to listen: any free port). */
export type ProxyAddress = string | { host: '127.0.0.1'; port: number };

/** One whole HTTP request as the proxy saw it on the wire. */
export interface ProxiedRequest {
  /** `METHOD /path HTTP/1.1` */
  readonly requestLine: string;
  /** The body as sent (a chunked body keeps its chunk framing: the test matches on what it carries). */
  readonly body: string;
}

/** A request the proxy holds: forward it to the backend, or drop it (the backend never sees it). */
export interface HeldRequest extends ProxiedRequest {
  forward(): void;
  drop(): void;
}

/** What to hold: a request line pattern, or a test of the whole request (request line and body). */
export type HoldMatcher = RegExp | ((request: ProxiedRequest) => boolean);

const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * A proxy in front of an HTTP backend (the Docker Engine API on its unix socket, Ironic on its TCP
 * port) that passes everything through, except the first request that matches `holdNext`: that
 * one waits until the test forwards or drops it. What lets a test stop the agent while the
 * driver's call is provably at the backend's door (its container made and its start held, its
 * node reserved and the deploy held, ...).
 *
 * The client's byte stream is cut into whole requests (Content-Length or chunked framing) before
 * matching: keep-alive clients such as undici send many requests on one connection, and one
 * request may arrive in several chunks (headers and body apart), so matching the first line of a
 * chunk could miss a request or look at a body (node:http's parser is not offered for a raw byte
 * stream, hence the small framer below). A request asking to upgrade the connection (the
 * engine's attach and exec) turns the rest of that connection into a plain pass-through.
 */
export class HoldingProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private hold: { matches: (r: ProxiedRequest) => boolean; resolve: (held: HeldRequest) => void } | undefined;
  private boundPort: number | undefined;

  constructor(
    private readonly listenAt: ProxyAddress,
    private readonly target: ProxyAddress,
  ) {
    this.server = createServer((client) => this.accept(client));
  }

  /** The unix socket path the proxy listens on ('' for a TCP proxy). */
  get path(): string {
    return typeof this.listenAt === 'string' ? this.listenAt : '';
  }

  /** The bound TCP port (after listen), e.g. for `http://127.0.0.1:<port>`. */
  get port(): number {
    if (this.boundPort === undefined) throw new Error('the proxy listens on a unix socket, or has not started listening');
    return this.boundPort;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      const done = () => {
        const address = this.server.address();
        if (address !== null && typeof address === 'object') this.boundPort = (address as AddressInfo).port;
        resolve();
      };
      if (typeof this.listenAt === 'string') this.server.listen(this.listenAt, done);
      else this.server.listen(this.listenAt.port, this.listenAt.host, done);
    });
  }

  /** Hold the next request that matches; resolves once one arrives. A RegExp is tested against the request line. */
  holdNext(matcher: HoldMatcher): Promise<HeldRequest> {
    const matches = matcher instanceof RegExp ? (r: ProxiedRequest) => matcher.test(r.requestLine) : matcher;
    return new Promise((resolve) => (this.hold = { matches, resolve }));
  }

  private accept(client: Socket): void {
    const upstream = typeof this.target === 'string' ? createConnection(this.target) : createConnection(this.target.port, this.target.host);
    this.sockets.add(client).add(upstream);
    let held = false;
    let passThrough = false;
    let pending: Buffer = Buffer.alloc(0);
    const endUpstream = () => {
      upstream.destroy();
      this.sockets.delete(upstream);
    };
    // A caller that goes away (the agent killed) while its request is held leaves the request to
    // the test: forwarded, the backend still acts on it, as it would on a request already sent.
    const endClient = () => {
      client.destroy();
      this.sockets.delete(client);
      if (!held) endUpstream();
    };
    client.on('error', endClient).on('close', endClient);
    upstream.on('error', endUpstream).on('close', () => {
      endUpstream();
      endClient();
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!client.destroyed) client.write(chunk);
    });

    // Send on every whole request in `pending` until one is held or the rest is incomplete.
    const pump = () => {
      while (!held && pending.length > 0) {
        if (passThrough) {
          upstream.write(pending);
          pending = Buffer.alloc(0);
          return;
        }
        const framed = frame(pending);
        if (framed === undefined) return;
        const bytes = pending.subarray(0, framed.length);
        pending = pending.subarray(framed.length);
        if (framed.upgrade) passThrough = true;
        const hold = this.hold;
        const request: ProxiedRequest = { requestLine: framed.requestLine, body: framed.body };
        if (hold === undefined || !hold.matches(request)) {
          upstream.write(bytes);
          continue;
        }
        this.hold = undefined;
        held = true;
        hold.resolve({
          ...request,
          forward: () => {
            held = false;
            if (upstream.destroyed) return;
            upstream.write(bytes);
            pump();
          },
          drop: () => {
            held = false;
            endClient();
            endUpstream();
          },
        });
      }
    };
    client.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      pump();
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The first whole request in `data`: its length in bytes, request line and body; undefined while incomplete. */
function frame(data: Buffer): { length: number; requestLine: string; body: string; upgrade: boolean } | undefined {
  const headEnd = data.indexOf(HEAD_END);
  if (headEnd < 0) return undefined;
  const [requestLine = '', ...lines] = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim().toLowerCase());
  }
  const upgrade = headers.has('upgrade') || /\bupgrade\b/.test(headers.get('connection') ?? '');
  const bodyStart = headEnd + HEAD_END.length;
  let bodyEnd: number;
  if (/\bchunked\b/.test(headers.get('transfer-encoding') ?? '')) {
    const end = chunkedEnd(data, bodyStart);
    if (end === undefined) return undefined;
    // Framing it cannot read: the rest of the connection passes through unmatched.
    if (end < 0) return { length: data.length, requestLine, body: '', upgrade: true };
    bodyEnd = end;
  } else {
    bodyEnd = bodyStart + Number(headers.get('content-length') ?? 0);
    if (data.length < bodyEnd) return undefined;
  }
  return { length: bodyEnd, requestLine, body: data.subarray(bodyStart, bodyEnd).toString('utf8'), upgrade };
}

/** Where a chunked body starting at `at` ends (after the last chunk and the trailers), undefined while incomplete, -1 if malformed. */
function chunkedEnd(data: Buffer, at: number): number | undefined {
  let pos = at;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', pos);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.subarray(pos, lineEnd).toString('latin1').split(';', 1)[0]!, 16);
    if (Number.isNaN(size)) return -1;
    if (size === 0) {
      // Trailers (usually none), then an empty line.
      let trailer = lineEnd + 2;
      for (;;) {
        const end = data.indexOf('\r\n', trailer);
        if (end < 0) return undefined;
        if (end === trailer) return end + 2;
        trailer = end + 2;
      }
    }
    pos = lineEnd + 2 + size + 2;
    if (data.length < pos) return undefined;
  }
}
