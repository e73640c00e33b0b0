import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** A request the proxy holds: forward it to the engine, or drop it (the engine never sees it). */
export interface HeldRequest {
  readonly requestLine: string;
  forward(): void;
  drop(): void;
}

/**
 * A unix-socket proxy in front of the Docker Engine API that passes everything through, except
 * the first request whose request line matches `hold`: that one waits until the test forwards or
 * drops it. What lets a test stop the agent while the driver's call is provably at the engine's
 * door (mid-spawn: its container made, its start held; mid-destroy: its removal held).
 */
export class HoldingProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private hold: { pattern: RegExp; resolve: (held: HeldRequest) => void } | undefined;

  constructor(
    readonly path: string,
    private readonly target: string,
  ) {
    this.server = createServer((client) => this.accept(client));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.path, () => resolve());
    });
  }

  /** Hold the next request whose request line (`METHOD /path HTTP/1.1`) matches; resolves once one arrives. */
  holdNext(pattern: RegExp): Promise<HeldRequest> {
    return new Promise((resolve) => (this.hold = { pattern, resolve }));
  }

  private accept(client: Socket): void {
    const upstream = createConnection(this.target);
    this.sockets.add(client).add(upstream);
    let held = false;
    const endUpstream = () => {
      upstream.destroy();
      this.sockets.delete(upstream);
    };
    // A caller that goes away (the agent killed) while its request is held leaves the request to
    // the test: forwarded, the engine still acts on it, as it would on a request already sent.
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
    client.on('data', (chunk: Buffer) => {
      const hold = this.hold;
      const requestLine = chunk.toString('latin1').split('\r\n', 1)[0] ?? '';
      if (held || hold === undefined || !hold.pattern.test(requestLine)) {
        upstream.write(chunk);
        return;
      }
      this.hold = undefined;
      held = true;
      client.pause();
      hold.resolve({
        requestLine,
        forward: () => {
          held = false;
          upstream.write(chunk);
          if (!client.destroyed) client.resume();
        },
        drop: () => {
          held = false;
          endClient();
          endUpstream();
        },
      });
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
