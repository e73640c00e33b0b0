import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * Numbers of libvirt's RPC protocol (src/rpc/virnetprotocol.x, src/remote/remote_protocol.x), as
 * driver-libvirt's client uses them (its src/client/protocol/header.ts and procedures.ts, which
 * the package does not export). They are stable across libvirt releases.
 */
export const REMOTE_PROGRAM = 0x20008086;
const MESSAGE_TYPE_CALL = 0;
/** Procedures of REMOTE_PROGRAM a test may want to hold. */
export const LibvirtProc = {
  DOMAIN_CREATE_XML: 10,
  DOMAIN_CREATE_WITH_FLAGS: 196,
  DOMAIN_UNDEFINE_FLAGS: 231,
  DOMAIN_DESTROY_FLAGS: 234,
  DOMAIN_DEFINE_XML_FLAGS: 350,
} as const;
/** Every packet: a 4-byte big-endian length counting itself, then six 4-byte header words. */
const HEADER_SIZE = 28;
/** libvirt's VIR_NET_MESSAGE_MAX: a larger length word means the stream is not libvirt's. */
const MESSAGE_MAX = 32 * 1024 * 1024;

export interface PacketHeader {
  program: number;
  version: number;
  procedure: number;
  type: number;
  serial: number;
  status: number;
}

/** A call the proxy holds: forward it to libvirtd, or drop it (libvirtd never sees it, its connection goes). */
export interface HeldCall {
  readonly header: PacketHeader;
  /** Settles once libvirtd answers the call (after forward()), whether or not its caller is still there, or the connection ends. */
  readonly answered: Promise<void>;
  forward(): void;
  drop(): void;
}

export function readHeader(packet: Buffer): PacketHeader {
  return {
    program: packet.readUInt32BE(4),
    version: packet.readUInt32BE(8),
    procedure: packet.readInt32BE(12),
    type: packet.readInt32BE(16),
    serial: packet.readUInt32BE(20),
    status: packet.readInt32BE(24),
  };
}

/** Splits a byte stream into whole libvirt RPC packets, keeping any partial tail for the next chunk. */
class Framer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const packets: Buffer[] = [];
    while (this.pending.length >= 4) {
      const length = this.pending.readUInt32BE(0);
      if (length < HEADER_SIZE || length > MESSAGE_MAX) throw new Error(`not a libvirt RPC stream: packet length ${length}`);
      if (this.pending.length < length) break;
      packets.push(this.pending.subarray(0, length));
      this.pending = this.pending.subarray(length);
    }
    return packets;
  }
}

/**
 * A unix-socket proxy in front of libvirtd that passes every packet through unchanged, except the
 * first call of REMOTE_PROGRAM whose procedure the test asked for: that one waits until the test
 * forwards or drops it. What lets a test stop the agent while the driver's call is provably at
 * libvirtd's door (mid-spawn: the guest started, the definition that makes it an instance held;
 * mid-destroy: the guest stopped, its undefine held).
 *
 * libvirt's protocol multiplexes calls by serial, so the packets behind a held one (keepalive
 * pongs, a call sent in parallel) go on: only the held call waits, as on a slow daemon.
 */
export class LibvirtHoldingProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private hold: { procedures: readonly number[]; resolve: (held: HeldCall) => void } | undefined;

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

  /** Hold the next call of one of these procedures; resolves once one arrives. */
  holdNext(procedures: number | readonly number[]): Promise<HeldCall> {
    return new Promise((resolve) => (this.hold = { procedures: typeof procedures === 'number' ? [procedures] : procedures, resolve }));
  }

  private takeHold(header: PacketHeader): ((held: HeldCall) => void) | undefined {
    const hold = this.hold;
    if (hold === undefined || header.program !== REMOTE_PROGRAM || header.type !== MESSAGE_TYPE_CALL || !hold.procedures.includes(header.procedure)) return undefined;
    this.hold = undefined;
    return hold.resolve;
  }

  private accept(client: Socket): void {
    const upstream = createConnection(this.target);
    this.sockets.add(client).add(upstream);
    const fromClient = new Framer();
    const fromDaemon = new Framer();
    // Serial of a held or forwarded call still unanswered, and who waits for its answer.
    let pending: { serial: number; answered: () => void } | undefined;
    let holding = false;
    let clientGone = false;

    const endUpstream = () => {
      upstream.destroy();
      this.sockets.delete(upstream);
      pending?.answered();
    };
    // A caller that goes away (the agent killed) while its call is held or unanswered leaves the
    // connection to the test: forwarded, libvirtd still acts on the call, as on one already sent.
    const endClient = () => {
      clientGone = true;
      client.destroy();
      this.sockets.delete(client);
      if (!holding && pending === undefined) endUpstream();
    };
    client.on('error', endClient).on('close', endClient);
    upstream.on('error', endUpstream).on('close', () => {
      endUpstream();
      endClient();
    });

    upstream.on('data', (chunk: Buffer) => {
      if (!clientGone) client.write(chunk);
      let packets: Buffer[];
      try {
        packets = fromDaemon.push(chunk);
      } catch (error) {
        upstream.destroy(error as Error);
        return;
      }
      for (const packet of packets) {
        const h = readHeader(packet);
        if (pending !== undefined && h.program === REMOTE_PROGRAM && h.serial === pending.serial && h.type !== MESSAGE_TYPE_CALL) {
          pending.answered();
          pending = undefined;
          // Its caller gone, the connection has done what the test wanted of it.
          if (clientGone) endUpstream();
        }
      }
    });

    client.on('data', (chunk: Buffer) => {
      let packets: Buffer[];
      try {
        packets = fromClient.push(chunk);
      } catch (error) {
        client.destroy(error as Error);
        return;
      }
      for (const packet of packets) {
        const header = readHeader(packet);
        const resolve = this.takeHold(header);
        if (resolve === undefined) {
          upstream.write(packet);
          continue;
        }
        holding = true;
        let answered!: () => void;
        const answeredPromise = new Promise<void>((r) => (answered = r));
        resolve({
          header,
          answered: answeredPromise,
          forward: () => {
            if (!holding) return;
            holding = false;
            pending = { serial: header.serial, answered };
            upstream.write(packet);
          },
          drop: () => {
            if (!holding) return;
            holding = false;
            endClient();
            endUpstream();
            answered();
          },
        });
      }
    });
  }

  close(): Promise<void> {
    this.hold = undefined;
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
