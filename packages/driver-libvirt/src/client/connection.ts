import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { XdrDecoder } from './xdr/decoder.js';
import { XdrEncoder } from './xdr/encoder.js';
import {
  HEADER_SIZE,
  KEEPALIVE_PROC_PING,
  KEEPALIVE_PROC_PONG,
  KEEPALIVE_PROGRAM,
  KEEPALIVE_VERSION,
  MESSAGE_MAX,
  MessageStatus,
  MessageType,
  QEMU_PROGRAM,
  REMOTE_PROGRAM,
  REMOTE_PROTOCOL_VERSION,
  decodeHeader,
  encodeMessage,
  type MessageHeader,
} from './protocol/header.js';
import { DrvFeature, Proc } from './protocol/procedures.js';
import { readLifecycleMessage, readRemoteError, type LifecycleMessage } from './protocol/remote-types.js';
import { CallAbortedError, CallTimeoutError, ConnectionLostError, LibvirtError, ProtocolError } from './errors.js';

export interface ConnectionOptions {
  /** libvirtd's unix socket. */
  socketPath: string;
  /** The URI sent in CONNECT_OPEN, e.g. `qemu:///system` or `test:///default`. */
  uri: string;
  /** Default per-call timeout (ms). */
  callTimeoutMs: number;
  /** Timeout for opening the socket and the CONNECT_OPEN handshake (ms). */
  connectTimeoutMs: number;
  /** Send a keepalive PING after this long without traffic (ms); 0 disables client pings. */
  keepaliveIntervalMs: number;
  /** Declare the daemon dead after this many unanswered intervals. */
  keepaliveCount: number;
  /** Reconnect in the background after an unexpected drop. */
  autoReconnect: boolean;
  reconnectInitialDelayMs: number;
  reconnectMaxDelayMs: number;
}

const DEFAULT_CONNECTION_OPTIONS: Omit<ConnectionOptions, 'socketPath' | 'uri'> = {
  callTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  keepaliveIntervalMs: 5_000,
  keepaliveCount: 5,
  autoReconnect: true,
  reconnectInitialDelayMs: 100,
  reconnectMaxDelayMs: 5_000,
};

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The program the procedure belongs to: libvirt's remote program unless said (QEMU_PROGRAM). */
  program?: number;
}

interface Pending {
  proc: number;
  resolve: (body: Buffer) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
  onAbort: (() => void) | undefined;
  signal: AbortSignal | undefined;
}

type State = 'idle' | 'connecting' | 'open' | 'closed';

export interface ConnectionEvents {
  lifecycle: [LifecycleMessage];
  /** The connection is open (first time or after a reconnect); `reconnect` is true after a drop. */
  open: [{ reconnect: boolean }];
  /** The socket dropped unexpectedly. */
  lost: [Error];
  error: [Error];
}

/**
 * One connection to libvirtd speaking the remote protocol: framing, serials, pending calls
 * with timeouts and abort, the keepalive program, event messages, and reconnect with
 * exponential backoff. All failures surface as the typed errors of ./errors.ts.
 */
export class LibvirtConnection extends EventEmitter<ConnectionEvents> {
  readonly options: ConnectionOptions;
  private socket: Socket | undefined;
  private state: State = 'idle';
  private serial = 1;
  private readonly pending = new Map<number, Pending>();
  private chunks: Buffer[] = [];
  private buffered = 0;
  private lastRx = 0;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelay: number;
  private connecting: Promise<void> | undefined;
  private everOpened = false;
  private userClosed = false;
  private calls = 0;
  /** The socket whose writes are held until the end of the current tick. */
  private corked: Socket | undefined;

  constructor(options: Partial<ConnectionOptions> & Pick<ConnectionOptions, 'socketPath' | 'uri'>) {
    super();
    this.options = { ...DEFAULT_CONNECTION_OPTIONS, ...options };
    this.reconnectDelay = this.options.reconnectInitialDelayMs;
  }

  get isOpen(): boolean {
    return this.state === 'open' && this.socket !== undefined && !this.socket.destroyed;
  }

  /** Open the socket and run the handshake. Resolves when CONNECT_OPEN succeeded. */
  connect(): Promise<void> {
    if (this.isOpen) return Promise.resolve();
    // A socket destroyed whose 'close' has not been handled yet: handle it now.
    if (this.socket?.destroyed) this.onClose(this.socket);
    if (this.connecting) return this.connecting;
    this.userClosed = false;
    this.connecting = this.doConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    this.state = 'connecting';
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection({ path: this.options.socketPath });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new ConnectionLostError(`timed out connecting to ${this.options.socketPath}`));
      }, this.options.connectTimeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(new ConnectionLostError(`cannot connect to libvirtd at ${this.options.socketPath}: ${err.message}`, { cause: err }));
      });
    }).catch((err: Error) => {
      this.state = 'closed';
      throw err;
    });
    socket.setNoDelay(true);
    this.socket = socket;
    this.chunks = [];
    this.buffered = 0;
    this.lastRx = Date.now();
    socket.on('data', (chunk) => this.onData(socket, chunk));
    socket.on('error', () => {
      /* reported through 'close' */
    });
    socket.on('close', () => this.onClose(socket));
    // Handshake: the calls go out before state is 'open', through the low-level sender.
    const timeoutMs = this.options.connectTimeoutMs;
    try {
      const authBody = await this.send(Proc.AUTH_LIST, undefined, { timeoutMs });
      const types = new XdrDecoder(authBody).array((d) => d.int());
      if (types.length > 0 && !types.includes(0)) {
        throw new ProtocolError(`libvirtd requires authentication (types ${types.join(',')}); only auth NONE is supported`);
      }
      // Asking for the keepalive feature makes the daemon start pinging this client.
      await this.send(Proc.CONNECT_SUPPORTS_FEATURE, new XdrEncoder(4).int(DrvFeature.PROGRAM_KEEPALIVE).toBuffer(), { timeoutMs });
      const open = new XdrEncoder(64).optional(this.options.uri, (e, v) => e.string(v)).uint(0).toBuffer();
      await this.send(Proc.CONNECT_OPEN, open, { timeoutMs });
    } catch (err) {
      socket.destroy();
      this.state = 'closed';
      throw err;
    }
    if (this.socket !== socket || socket.destroyed) {
      throw new ConnectionLostError('connection to libvirtd closed during the handshake');
    }
    this.state = 'open';
    this.reconnectDelay = this.options.reconnectInitialDelayMs;
    this.startKeepalive();
    const reconnect = this.everOpened;
    this.everOpened = true;
    this.emit('open', { reconnect });
  }

  /** Calls made through call() so far (the handshake and CONNECT_CLOSE are not counted). */
  get callCount(): number {
    return this.calls;
  }

  /** Call a procedure of the remote program; resolves with the reply body. */
  async call(proc: number, body?: Buffer, options: CallOptions = {}): Promise<Buffer> {
    this.calls++;
    if (!this.isOpen) {
      if (this.userClosed) throw new ConnectionLostError('connection closed');
      await this.connect();
    }
    return this.send(proc, body, options);
  }

  private send(proc: number, body: Buffer | undefined, options: CallOptions): Promise<Buffer> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.reject(new ConnectionLostError('not connected to libvirtd'));
    if (options.signal?.aborted) return Promise.reject(new CallAbortedError('call aborted before it was sent', { cause: options.signal.reason }));
    const serial = this.serial;
    this.serial = (this.serial + 1) >>> 0 || 1;
    const frame = encodeMessage(
      { prog: options.program ?? REMOTE_PROGRAM, vers: REMOTE_PROTOCOL_VERSION, proc, type: MessageType.CALL, serial, status: MessageStatus.OK },
      body,
    );
    if (frame.length > MESSAGE_MAX) return Promise.reject(new RangeError(`message of ${frame.length} bytes is too large`));
    return new Promise<Buffer>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.options.callTimeoutMs;
      const entry: Pending = { proc, resolve, reject, timer: undefined, onAbort: undefined, signal: options.signal };
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        entry.timer = setTimeout(() => {
          this.settle(serial)?.reject(new CallTimeoutError(`libvirt procedure ${proc} got no reply within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      if (options.signal) {
        const signal = options.signal;
        entry.onAbort = () => this.settle(serial)?.reject(new CallAbortedError(`libvirt procedure ${proc} aborted`, { cause: signal.reason }));
        options.signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.pending.set(serial, entry);
      this.write(socket, frame);
    });
  }

  /**
   * Calls sent in the same tick (a driver asking for a domain's state and XML at once) leave
   * in one write: each write is a system call that wakes libvirtd.
   */
  private write(socket: Socket, frame: Buffer): void {
    if (this.corked !== socket) {
      this.corked = socket;
      socket.cork();
      process.nextTick(() => {
        if (this.corked === socket) this.corked = undefined;
        socket.uncork();
      });
    }
    socket.write(frame);
  }

  /** Remove a pending call and clear its timer/listener; returns it if it was still pending. */
  private settle(serial: number): Pending | undefined {
    const entry = this.pending.get(serial);
    if (!entry) return undefined;
    this.pending.delete(serial);
    if (entry.timer) clearTimeout(entry.timer);
    if (entry.onAbort) entry.signal?.removeEventListener('abort', entry.onAbort);
    return entry;
  }

  private onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    this.lastRx = Date.now();
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.buffered < 4) return;
      let head = this.chunks[0]!;
      if (head.length < 4) {
        head = Buffer.concat(this.chunks);
        this.chunks = [head];
      }
      const length = head.readUInt32BE(0);
      if (length < HEADER_SIZE || length > MESSAGE_MAX) {
        this.fail(socket, new ProtocolError(`bad frame length ${length}`));
        return;
      }
      if (this.buffered < length) return;
      const all = this.chunks.length === 1 ? head : Buffer.concat(this.chunks);
      const frame = all.subarray(0, length);
      const rest = all.subarray(length);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      try {
        this.onFrame(socket, frame);
      } catch (err) {
        this.fail(socket, err instanceof Error ? err : new ProtocolError(String(err)));
        return;
      }
    }
  }

  private onFrame(socket: Socket, frame: Buffer): void {
    const h = decodeHeader(frame);
    const body = frame.subarray(HEADER_SIZE);
    if (h.prog === KEEPALIVE_PROGRAM) {
      if (h.proc === KEEPALIVE_PROC_PING) {
        socket.write(
          encodeMessage({ prog: KEEPALIVE_PROGRAM, vers: KEEPALIVE_VERSION, proc: KEEPALIVE_PROC_PONG, type: MessageType.MESSAGE, serial: 0, status: MessageStatus.OK }),
        );
      }
      return; // a PONG only refreshes lastRx
    }
    if (h.prog === QEMU_PROGRAM && h.type === MessageType.REPLY) {
      this.reply(h, body);
      return;
    }
    if (h.prog !== REMOTE_PROGRAM) throw new ProtocolError(`unexpected program 0x${h.prog.toString(16)}`);
    if (h.type === MessageType.MESSAGE) {
      if (h.proc === Proc.DOMAIN_EVENT_CALLBACK_LIFECYCLE) this.emit('lifecycle', readLifecycleMessage(new XdrDecoder(Buffer.from(body))));
      return; // other events are not registered
    }
    if (h.type !== MessageType.REPLY) return;
    this.reply(h, body);
  }

  private reply(h: MessageHeader, body: Buffer): void {
    const entry = this.settle(h.serial);
    if (!entry) return; // a reply to a call that already timed out or was aborted
    if (h.status === MessageStatus.OK) entry.resolve(Buffer.from(body));
    else if (h.status === MessageStatus.ERROR) entry.reject(new LibvirtError(readRemoteError(new XdrDecoder(Buffer.from(body))), h.proc));
    else entry.reject(new ProtocolError(`unexpected reply status ${h.status}`));
  }

  private fail(socket: Socket, err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    socket.destroy(err);
  }

  private onClose(socket: Socket): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.stopKeepalive();
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    const err = new ConnectionLostError('connection to libvirtd lost');
    for (const serial of [...this.pending.keys()]) this.settle(serial)?.reject(err);
    if (!this.userClosed && wasOpen) {
      this.emit('lost', err);
      if (this.options.autoReconnect) this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.userClosed) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, this.options.reconnectMaxDelayMs);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.userClosed || this.state === 'open') return;
      this.connect().catch(() => this.scheduleReconnect());
    }, delay);
    this.reconnectTimer.unref();
  }

  private startKeepalive(): void {
    this.stopKeepalive();
    const interval = this.options.keepaliveIntervalMs;
    if (interval <= 0) return;
    this.keepaliveTimer = setInterval(() => {
      const socket = this.socket;
      if (!socket || this.state !== 'open') return;
      const idle = Date.now() - this.lastRx;
      if (idle >= interval * this.options.keepaliveCount) {
        socket.destroy(new ConnectionLostError(`no keepalive answer from libvirtd for ${idle} ms`));
      } else if (idle >= interval) {
        socket.write(
          encodeMessage({ prog: KEEPALIVE_PROGRAM, vers: KEEPALIVE_VERSION, proc: KEEPALIVE_PROC_PING, type: MessageType.MESSAGE, serial: 0, status: MessageStatus.OK }),
        );
      }
    }, interval);
    this.keepaliveTimer.unref();
  }

  private stopKeepalive(): void {
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
  }

  /** Close politely (CONNECT_CLOSE) and stop reconnecting. Pending calls are rejected. */
  async close(): Promise<void> {
    this.userClosed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const socket = this.socket;
    if (!socket) return;
    if (this.state === 'open') {
      await this.send(Proc.CONNECT_CLOSE, undefined, { timeoutMs: 2_000 }).catch(() => undefined);
    }
    this.stopKeepalive();
    await new Promise<void>((resolve) => {
      if (socket.destroyed) return resolve();
      socket.once('close', () => resolve());
      socket.end();
      setTimeout(() => socket.destroy(), 1_000).unref();
    });
  }
}
