import { Pool } from 'undici';
import type { Readable } from 'node:stream';
import { EngineAbortedError, EngineHttpError, EngineUnavailableError, isConnectionError, isTimeout } from './errors.js';
import type { Filters } from './types.js';

/**
 * The HTTP transport to a Docker Engine API over the engine's unix socket: one undici Pool
 * (keep-alive, so a call costs one round trip), the API version prefix, and the three shapes
 * of answer the driver reads (JSON, a stream, raw bytes). Error statuses become
 * EngineHttpError, a missing engine EngineUnavailableError, the caller's abort
 * EngineAbortedError; nothing here knows about the contract.
 *
 * Every call has a deadline besides the caller's signal: connecting gets `connectTimeoutMs`, the
 * answer `requestTimeoutMs` (the calls that wait on the disk or a guest's end `longRequestTimeoutMs`,
 * a stop its grace period on top). An engine that accepts and never answers is then an
 * EngineUnavailableError within that deadline, not a call pending for minutes.
 */
export interface EngineClientOptions {
  socketPath: string;
  /** API version prefix to speak, e.g. '1.41'. Negotiated by `negotiate()` when absent. */
  apiVersion?: string | undefined;
  /** Most parallel connections to the engine. */
  connections?: number;
  /** Deadline for connecting to the socket (default 10 s). */
  connectTimeoutMs?: number;
  /** Deadline for the engine's answer to a call (default 10 s). */
  requestTimeoutMs?: number;
  /** Deadline for the answer to a call marked `slow` (default 300 s). */
  longRequestTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_LONG_REQUEST_TIMEOUT_MS = 300_000;

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  /** Values of a query key that repeats (commit and import `changes`), appended after `query`. */
  repeated?: { key: string; values: readonly string[] };
  body?: unknown;
  /** Raw body (a stream or buffer) with its content type, instead of JSON. */
  rawBody?: { data: Readable | Buffer; contentType: string };
  signal?: AbortSignal | undefined;
  /** Statuses that are answers rather than errors (e.g. 304). */
  accept?: number[];
  /** The call waits on the disk or on a guest's end (remove, commit, wait): `longRequestTimeoutMs` instead of `requestTimeoutMs`. */
  slow?: boolean;
  /** Milliseconds the call may take on top of its deadline (a stop's grace period). */
  extraMs?: number;
}

export interface Response<T> {
  status: number;
  body: T;
}

/** The highest API version this client knows how to speak; newer engines are spoken to in it. */
const MAX_API_VERSION = '1.45';

function compareApiVersions(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 !== b1 ? a1 - b1 : a2 - b2;
}

function encodeQuery(query: RequestOptions['query'], repeated?: RequestOptions['repeated']): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  for (const v of repeated?.values ?? []) parts.push(`${encodeURIComponent(repeated!.key)}=${encodeURIComponent(v)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

export function encodeFilters(filters: Filters): string {
  return JSON.stringify(filters);
}

/** The engine's `{"message": ...}` error body, or the text itself. */
function engineMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: keep the text
  }
  return text;
}

export class EngineHttp {
  private readonly pool: Pool;
  private prefix: string;
  private readonly requestTimeoutMs: number;
  protected readonly longRequestTimeoutMs: number;
  apiVersion: string | undefined;

  constructor(private readonly options: EngineClientOptions) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.longRequestTimeoutMs = options.longRequestTimeoutMs ?? DEFAULT_LONG_REQUEST_TIMEOUT_MS;
    this.pool = new Pool('http://localhost', {
      socketPath: options.socketPath,
      connections: options.connections ?? 16,
      keepAliveTimeout: 10_000,
      pipelining: 1,
      connect: { timeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS },
    });
    this.apiVersion = options.apiVersion;
    this.prefix = options.apiVersion ? `/v${options.apiVersion}` : '';
  }

  /** Speak min(the engine's version, MAX_API_VERSION) unless a version was configured. */
  protected adoptVersion(server: string): void {
    if (this.options.apiVersion) return;
    this.apiVersion = compareApiVersions(server, MAX_API_VERSION) > 0 ? MAX_API_VERSION : server;
    this.prefix = `/v${this.apiVersion}`;
  }

  /** True when the engine speaks at least `version` (features gated on API version). */
  supports(version: string): boolean {
    return this.apiVersion !== undefined && compareApiVersions(this.apiVersion, version) >= 0;
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => undefined);
  }

  /** One API call. JSON in, JSON (or text) out; error statuses throw EngineHttpError. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}, versioned = true): Promise<Response<T>> {
    const fullPath = (versioned ? this.prefix : '') + path + encodeQuery(opts.query, opts.repeated);
    if (opts.signal?.aborted) throw new EngineAbortedError(method, path, opts.signal.reason);
    const headers: Record<string, string> = {};
    let body: string | Buffer | Readable | undefined;
    if (opts.rawBody) {
      headers['content-type'] = opts.rawBody.contentType;
      body = opts.rawBody.data;
    } else if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const timeout = (opts.slow ? this.longRequestTimeoutMs : this.requestTimeoutMs) + Math.max(0, opts.extraMs ?? 0);
    const res = await this.send(method, path, opts.signal, timeout, () =>
      this.pool.request({
        method: method as 'GET',
        path: fullPath,
        headers,
        body,
        signal: opts.signal,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      }),
    );
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      if (opts.signal?.aborted) throw new EngineAbortedError(method, path, opts.signal.reason);
      throw new EngineUnavailableError(method, path, err);
    }
    const status = res.statusCode;
    if (status >= 400 || (status >= 300 && !(opts.accept ?? []).includes(status))) {
      throw new EngineHttpError(status, method, path, engineMessage(text).trim());
    }
    let parsed: unknown = text;
    const type = String(res.headers['content-type'] ?? '');
    if (text.length > 0 && type.includes('json')) parsed = JSON.parse(text);
    return { status, body: parsed as T };
  }

  /** A streaming GET (events): returns the body stream; the caller consumes it. */
  async stream(path: string, query: RequestOptions['query'], signal?: AbortSignal): Promise<Readable> {
    const fullPath = this.prefix + path + encodeQuery(query);
    const res = await this.send('GET', path, signal, this.requestTimeoutMs, () =>
      this.pool.request({ method: 'GET', path: fullPath, signal, headersTimeout: this.requestTimeoutMs, bodyTimeout: 0 }),
    );
    if (res.statusCode >= 400) {
      const text = await res.body.text().catch(() => '');
      throw new EngineHttpError(res.statusCode, 'GET', path, engineMessage(text));
    }
    return res.body as unknown as Readable;
  }

  /** A GET returning raw bytes (multiplexed logs). */
  async bytes(path: string, query: RequestOptions['query'], signal?: AbortSignal): Promise<Buffer> {
    const fullPath = this.prefix + path + encodeQuery(query);
    const res = await this.send('GET', path, signal, this.requestTimeoutMs, () =>
      this.pool.request({ method: 'GET', path: fullPath, signal, headersTimeout: this.requestTimeoutMs, bodyTimeout: this.requestTimeoutMs }),
    );
    let buf: Buffer;
    try {
      buf = Buffer.from(await res.body.arrayBuffer());
    } catch (err) {
      throw new EngineUnavailableError('GET', path, err);
    }
    if (res.statusCode >= 400) throw new EngineHttpError(res.statusCode, 'GET', path, engineMessage(buf.toString('utf8')));
    return buf;
  }

  /** Send a request; a failure before the answer is the caller's abort or the engine being away (or silent past `timeoutMs`). */
  private async send<R>(method: string, path: string, signal: AbortSignal | undefined, timeoutMs: number, request: () => Promise<R>): Promise<R> {
    try {
      return await request();
    } catch (err) {
      if (signal?.aborted) throw new EngineAbortedError(method, path, signal.reason);
      if (isTimeout(err)) throw new EngineUnavailableError(method, path, new Error(`no answer within ${timeoutMs} ms`, { cause: err }));
      if (isConnectionError(err)) throw new EngineUnavailableError(method, path, err);
      throw err;
    }
  }
}
