/**
 * The HTTP layer: one bounded undici Pool per endpoint, the microversion header on every
 * request, JSON in and out, Ironic's error bodies decoded, a per-request timeout, the caller's
 * AbortSignal, and the call path's one retry layer: 409 NodeLocked and 503 (retry.ts says which
 * answers are transient) are retried with core's `withRetry` and the configured `RetryPolicy`
 * (exponential backoff with full jitter); the waits between attempts end as soon as the call's
 * AbortSignal fires, and that signal carries the call's deadline, so retries never outlast it.
 *
 * Why undici's Pool rather than node:http with an Agent: the Pool bounds connections
 * (`connections`) and idles them out (`keepAliveTimeout`) the same way, and adds per-request
 * header/body timeouts and AbortSignal support without hand-written socket handling; it is
 * also the client behind Node's own fetch. The keep-alive timeout must stay below Ironic's
 * `client_socket_timeout` so that we, not the server, close idle sockets (a request sent on a
 * socket the server is closing fails with a reset).
 */
import { Pool } from 'undici';
import { abortError, throwIfAborted, withRetry, type RetryPolicy } from '@nova-common/core';
import { IronicApiError, decodeErrorBody, kindOfStatus, type ResponseHeaders } from './errors.js';
import { transientFor } from './retry.js';
import { VERSION_HEADER } from './microversion.js';

export interface IronicHttpOptions {
  /** Base URL, e.g. http://127.0.0.1:6385 (a path prefix such as /baremetal is kept). */
  endpoint: string;
  /** At most this many connections to Ironic at once; more requests wait in the pool's queue. */
  connections: number;
  /** Close an idle connection after this long. */
  keepAliveTimeoutMs: number;
  /** Give up on one request after this long (connect + headers + body). */
  requestTimeoutMs: number;
  /** Retries of transient answers (409 NodeLocked, 503): the call path's only retry layer. */
  retry: RetryPolicy;
}

export type Query = Record<string, string | number | boolean | undefined>;

/** What every endpoint call accepts: the call's AbortSignal, and whether transient answers are retried. */
export interface Control {
  signal?: AbortSignal;
  /** Default true; see RequestOptions.retry. */
  retry?: boolean;
}

export interface RequestOptions {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** Override of the version header (negotiation uses its own). */
  version?: string;
  /**
   * Set false to surface 409 NodeLocked / 503 at once, for a caller that repeats the request on
   * its own schedule anyway (the node watcher's looks): one retry layer per path.
   */
  retry?: boolean;
}

export interface HttpResponse<T> {
  status: number;
  headers: ResponseHeaders;
  body: T;
}

/** Counters, read by the benchmark (requests per deploy). */
export interface HttpStats {
  requests: number;
  retries: number;
}

function buildPath(basePath: string, path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.append(k, String(v));
  const qs = params.toString();
  return `${basePath}${path}${qs ? `?${qs}` : ''}`;
}

export class IronicHttp {
  readonly stats: HttpStats = { requests: 0, retries: 0 };
  private readonly pool: Pool;
  private readonly basePath: string;
  private closed = false;
  /** The negotiated microversion; set once by negotiation. */
  version: string | undefined;

  constructor(private readonly options: IronicHttpOptions) {
    const url = new URL(options.endpoint);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      keepAliveMaxTimeout: options.keepAliveTimeoutMs,
      connectTimeout: Math.min(options.requestTimeoutMs, 10_000),
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs,
    });
  }

  request<T = unknown>(req: RequestOptions): Promise<HttpResponse<T>> {
    if (req.retry === false) return this.once<T>(req);
    return withRetry(
      (n) => {
        if (n > 0) this.stats.retries++;
        return this.once<T>(req);
      },
      this.options.retry,
      transientFor(req.method),
      req.signal,
    );
  }

  private async once<T>(req: RequestOptions): Promise<HttpResponse<T>> {
    if (this.closed) throw new IronicApiError('unavailable', 0, 'client closed', req.method, req.path);
    // Nothing is sent once the call is over (a retry after the deadline, a step after a cancel).
    throwIfAborted(req.signal);
    // The caller's signal cuts reads short, but a request that changes something is never cut
    // off once sent: Ironic would still apply it after we stopped listening, and the driver
    // could not know what to undo. It runs to its answer (bounded by the request timeout) and
    // the driver stops right after, "as soon as it can stop safely".
    const callerSignal = req.method === 'GET' ? req.signal : undefined;
    const version = req.version ?? this.version;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (version) headers[VERSION_HEADER] = version;
    let payload: string | undefined;
    if (req.body !== undefined) {
      payload = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
    this.stats.requests++;
    const path = buildPath(this.basePath, req.path, req.query);
    let status: number;
    let resHeaders: ResponseHeaders;
    let text: string;
    try {
      const res = await this.pool.request({ method: req.method, path, headers, body: payload, signal });
      status = res.statusCode;
      resHeaders = res.headers;
      text = await res.body.text();
    } catch (e) {
      if (callerSignal?.aborted) throw abortError(callerSignal);
      if (timeout.aborted) throw new IronicApiError('timeout', 0, `no answer within ${this.options.requestTimeoutMs} ms`, req.method, req.path, { cause: e });
      const code = (e as { code?: string }).code ?? '';
      if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
        throw new IronicApiError('timeout', 0, code, req.method, req.path, { cause: e });
      throw new IronicApiError('unavailable', 0, `${code || (e as Error).name}: ${(e as Error).message}`, req.method, req.path, { cause: e });
    }
    if (req.signal?.aborted && status >= 200 && status < 300 && req.method !== 'GET') {
      // Applied, then the call ended: report how it ended; the driver reads the state to clean up.
      throw abortError(req.signal);
    }
    if (status >= 200 && status < 300) {
      let body: unknown = undefined;
      if (text.length > 0) {
        try {
          body = JSON.parse(text);
        } catch (e) {
          throw new IronicApiError('unexpected', status, `invalid JSON in the answer: ${text.slice(0, 200)}`, req.method, req.path, { cause: e });
        }
      }
      return { status, headers: resHeaders, body: body as T };
    }
    const detail = decodeErrorBody(text);
    throw new IronicApiError(kindOfStatus(status, detail), status, detail, req.method, req.path, { headers: resHeaders });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.close();
  }
}

/** Header value as one string. */
export function header(headers: ResponseHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
