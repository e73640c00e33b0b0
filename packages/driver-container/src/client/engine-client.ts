import { Pool } from 'undici';
import type { Readable } from 'node:stream';
import { EngineAbortedError, EngineHttpError, EngineUnavailableError, isConnectionError } from './errors.js';
import type {
  ContainerCreateBody,
  ContainerInspect,
  ContainerSummary,
  EndpointSettings,
  EngineEvent,
  EngineInfo,
  EngineVersion,
  Filters,
  ImageInspect,
  ImageSummary,
  NetworkInspect,
} from './types.js';

/**
 * A thin Docker Engine API client over the engine's unix socket.
 *
 * Written on undici's Pool rather than dockerode: the driver needs a few dozen endpoints,
 * exact HTTP statuses (304 "already in that state", 409 "conflict") to map onto the
 * contract, AbortSignal on every call, and keep-alive connections so a call costs one
 * round trip (the benchmark's goal is within 1.1x of raw API calls). dockerode hides the
 * statuses behind its own error objects, pulls in docker-modem/ssh2, and its types target
 * v4. Every endpoint used here is also served by podman's Docker-compatible service.
 */
export interface EngineClientOptions {
  socketPath: string;
  /** API version prefix to speak, e.g. '1.41'. Negotiated by `negotiate()` when absent. */
  apiVersion?: string;
  /** Most parallel connections to the engine. */
  connections?: number;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Raw body (a stream or buffer) with its content type, instead of JSON. */
  rawBody?: { data: Readable | Buffer; contentType: string };
  signal?: AbortSignal | undefined;
  /** Statuses that are answers rather than errors (e.g. 304). */
  accept?: number[];
  /** Milliseconds to wait for the response headers; 0 disables (long calls such as stop). */
  headersTimeoutMs?: number;
}

export interface Response<T> {
  status: number;
  body: T;
}

/** The highest API version this client knows how to speak; newer engines are spoken to in it. */
export const MAX_API_VERSION = '1.45';

export function compareApiVersions(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 !== b1 ? a1 - b1 : a2 - b2;
}

function encodeQuery(query: RequestOptions['query']): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

function encodeFilters(filters: Filters): string {
  return JSON.stringify(filters);
}

export class EngineClient {
  private readonly pool: Pool;
  private prefix: string;
  apiVersion: string | undefined;

  constructor(private readonly options: EngineClientOptions) {
    this.pool = new Pool('http://localhost', {
      socketPath: options.socketPath,
      connections: options.connections ?? 16,
      keepAliveTimeout: 10_000,
      pipelining: 1,
    });
    this.apiVersion = options.apiVersion;
    this.prefix = options.apiVersion ? `/v${options.apiVersion}` : '';
  }

  /** Ask the engine its version and speak min(its version, MAX_API_VERSION). */
  async negotiate(signal?: AbortSignal): Promise<EngineVersion> {
    const v = await this.request<EngineVersion>('GET', '/version', { signal }, false);
    if (!this.options.apiVersion) {
      const server = v.body.ApiVersion;
      this.apiVersion = compareApiVersions(server, MAX_API_VERSION) > 0 ? MAX_API_VERSION : server;
      this.prefix = `/v${this.apiVersion}`;
    }
    return v.body;
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
    const fullPath = (versioned ? this.prefix : '') + path + encodeQuery(opts.query);
    if (opts.signal?.aborted) throw new EngineAbortedError(method, path);
    let res;
    try {
      const headers: Record<string, string> = {};
      let body: string | Buffer | Readable | undefined;
      if (opts.rawBody) {
        headers['content-type'] = opts.rawBody.contentType;
        body = opts.rawBody.data;
      } else if (opts.body !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(opts.body);
      }
      res = await this.pool.request({
        method: method as 'GET',
        path: fullPath,
        headers,
        body,
        signal: opts.signal,
        headersTimeout: opts.headersTimeoutMs ?? 300_000,
        bodyTimeout: 0,
      });
    } catch (err) {
      if (opts.signal?.aborted) throw new EngineAbortedError(method, path);
      if (isConnectionError(err)) throw new EngineUnavailableError(method, path, err);
      throw err;
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      if (opts.signal?.aborted) throw new EngineAbortedError(method, path);
      throw new EngineUnavailableError(method, path, err);
    }
    const status = res.statusCode;
    if (status >= 400 || (status >= 300 && !(opts.accept ?? []).includes(status))) {
      let message = text;
      try {
        const parsed = JSON.parse(text) as { message?: string };
        if (typeof parsed.message === 'string') message = parsed.message;
      } catch {
        // not JSON: keep the text
      }
      throw new EngineHttpError(status, method, path, message.trim());
    }
    let parsed: unknown = text;
    const type = String(res.headers['content-type'] ?? '');
    if (text.length > 0 && type.includes('json')) parsed = JSON.parse(text);
    return { status, body: parsed as T };
  }

  /** A streaming GET (logs, events): returns the body stream; the caller consumes it. */
  async stream(path: string, query: RequestOptions['query'], signal?: AbortSignal): Promise<Readable> {
    const fullPath = this.prefix + path + encodeQuery(query);
    let res;
    try {
      res = await this.pool.request({ method: 'GET', path: fullPath, signal, headersTimeout: 30_000, bodyTimeout: 0 });
    } catch (err) {
      if (signal?.aborted) throw new EngineAbortedError('GET', path);
      if (isConnectionError(err)) throw new EngineUnavailableError('GET', path, err);
      throw err;
    }
    if (res.statusCode >= 400) {
      const text = await res.body.text().catch(() => '');
      throw new EngineHttpError(res.statusCode, 'GET', path, text);
    }
    return res.body as unknown as Readable;
  }

  /** A GET returning raw bytes (multiplexed logs). */
  async bytes(path: string, query: RequestOptions['query'], signal?: AbortSignal): Promise<Buffer> {
    const fullPath = this.prefix + path + encodeQuery(query);
    let res;
    try {
      res = await this.pool.request({ method: 'GET', path: fullPath, signal, headersTimeout: 60_000, bodyTimeout: 60_000 });
    } catch (err) {
      if (signal?.aborted) throw new EngineAbortedError('GET', path);
      if (isConnectionError(err)) throw new EngineUnavailableError('GET', path, err);
      throw err;
    }
    let buf: Buffer;
    try {
      buf = Buffer.from(await res.body.arrayBuffer());
    } catch (err) {
      throw new EngineUnavailableError('GET', path, err);
    }
    if (res.statusCode >= 400) {
      let message = buf.toString('utf8');
      try {
        message = (JSON.parse(message) as { message?: string }).message ?? message;
      } catch {
        // keep text
      }
      throw new EngineHttpError(res.statusCode, 'GET', path, message);
    }
    return buf;
  }

  // ---- system ----

  async ping(signal?: AbortSignal): Promise<void> {
    await this.request('GET', '/_ping', { signal }, false);
  }

  async info(signal?: AbortSignal): Promise<EngineInfo> {
    return (await this.request<EngineInfo>('GET', '/info', { signal })).body;
  }

  // ---- containers ----

  async createContainer(name: string, body: ContainerCreateBody, signal?: AbortSignal): Promise<string> {
    const r = await this.request<{ Id: string }>('POST', '/containers/create', { query: { name }, body, signal });
    return r.body.Id;
  }

  async inspectContainer(id: string, signal?: AbortSignal): Promise<ContainerInspect> {
    return (await this.request<ContainerInspect>('GET', `/containers/${encodeURIComponent(id)}/json`, { signal })).body;
  }

  async listContainers(filters: Filters, signal?: AbortSignal): Promise<ContainerSummary[]> {
    const r = await this.request<ContainerSummary[]>('GET', '/containers/json', {
      query: { all: 'true', filters: encodeFilters(filters) },
      signal,
    });
    return r.body;
  }

  /** Start; returns false when it was already running (304). */
  async startContainer(id: string, signal?: AbortSignal): Promise<boolean> {
    const r = await this.request('POST', `/containers/${encodeURIComponent(id)}/start`, { signal, accept: [304] });
    return r.status !== 304;
  }

  /** Stop with a grace period in seconds (then SIGKILL); returns false when it was already stopped (304). */
  async stopContainer(id: string, timeoutSeconds: number, signal?: AbortSignal): Promise<boolean> {
    const r = await this.request('POST', `/containers/${encodeURIComponent(id)}/stop`, {
      query: { t: timeoutSeconds },
      signal,
      accept: [304],
      headersTimeoutMs: 0,
    });
    return r.status !== 304;
  }

  async restartContainer(id: string, timeoutSeconds: number, signal?: AbortSignal): Promise<void> {
    await this.request('POST', `/containers/${encodeURIComponent(id)}/restart`, {
      query: { t: timeoutSeconds },
      signal,
      headersTimeoutMs: 0,
    });
  }

  async killContainer(id: string, signal?: AbortSignal): Promise<void> {
    await this.request('POST', `/containers/${encodeURIComponent(id)}/kill`, { signal });
  }

  async pauseContainer(id: string, signal?: AbortSignal): Promise<void> {
    await this.request('POST', `/containers/${encodeURIComponent(id)}/pause`, { signal });
  }

  async unpauseContainer(id: string, signal?: AbortSignal): Promise<void> {
    await this.request('POST', `/containers/${encodeURIComponent(id)}/unpause`, { signal });
  }

  async renameContainer(id: string, name: string, signal?: AbortSignal): Promise<void> {
    await this.request('POST', `/containers/${encodeURIComponent(id)}/rename`, { query: { name }, signal });
  }

  /** Force-remove (kills a running or paused container first); anonymous volumes go with it. */
  async removeContainer(id: string, signal?: AbortSignal): Promise<void> {
    await this.request('DELETE', `/containers/${encodeURIComponent(id)}`, {
      query: { force: 'true', v: 'true' },
      signal,
      headersTimeoutMs: 0,
    });
  }

  async containerLogs(id: string, tail: number, signal?: AbortSignal): Promise<Buffer> {
    return this.bytes(`/containers/${encodeURIComponent(id)}/logs`, { stdout: 1, stderr: 1, tail }, signal);
  }

  /** Commit a container into `repo:tag`; returns the image id. */
  async commit(
    id: string,
    repo: string,
    tag: string,
    labels: Record<string, string>,
    pause: boolean,
    signal?: AbortSignal,
    changes: readonly string[] = [],
  ): Promise<string> {
    const query = encodeQuery({ container: id, repo, tag, pause: pause ? 'true' : 'false' });
    const path = '/commit' + query + changes.map((c) => `&changes=${encodeURIComponent(c)}`).join('');
    const r = await this.request<{ Id: string }>('POST', path, {
      body: { Labels: labels },
      signal,
      headersTimeoutMs: 0,
    });
    return r.body.Id;
  }

  // ---- images ----

  async inspectImage(ref: string, signal?: AbortSignal): Promise<ImageInspect> {
    return (await this.request<ImageInspect>('GET', `/images/${encodeURIComponent(ref)}/json`, { signal })).body;
  }

  async listImages(filters: Filters, signal?: AbortSignal): Promise<ImageSummary[]> {
    return (await this.request<ImageSummary[]>('GET', '/images/json', { query: { filters: encodeFilters(filters) }, signal })).body;
  }

  async removeImage(ref: string, signal?: AbortSignal): Promise<void> {
    await this.request('DELETE', `/images/${encodeURIComponent(ref)}`, { query: { force: 'false', noprune: 'false' }, signal });
  }

  async tagImage(ref: string, repo: string, tag: string, signal?: AbortSignal): Promise<void> {
    await this.request('POST', `/images/${encodeURIComponent(ref)}/tag`, { query: { repo, tag }, signal });
  }

  /** `docker import`: a root filesystem tarball -> repo:tag with Dockerfile `changes`. */
  async importImage(tar: Readable | Buffer, repo: string, tag: string, changes: string[], signal?: AbortSignal): Promise<void> {
    const query: Record<string, string> = { fromSrc: '-', repo, tag };
    const path = '/images/create' + encodeQuery(query) + changes.map((c) => `&changes=${encodeURIComponent(c)}`).join('');
    await this.request('POST', path, { rawBody: { data: tar, contentType: 'application/x-tar' }, signal, headersTimeoutMs: 0 });
  }

  // ---- networks ----

  async createNetwork(name: string, labels: Record<string, string>, signal?: AbortSignal): Promise<string> {
    const r = await this.request<{ Id: string }>('POST', '/networks/create', {
      body: { Name: name, Driver: 'bridge', Internal: true, CheckDuplicate: true, Attachable: true, Labels: labels },
      signal,
    });
    return r.body.Id;
  }

  async inspectNetwork(idOrName: string, signal?: AbortSignal): Promise<NetworkInspect> {
    return (await this.request<NetworkInspect>('GET', `/networks/${encodeURIComponent(idOrName)}`, { signal })).body;
  }

  async listNetworks(filters: Filters, signal?: AbortSignal): Promise<NetworkInspect[]> {
    return (await this.request<NetworkInspect[]>('GET', '/networks', { query: { filters: encodeFilters(filters) }, signal })).body;
  }

  async removeNetwork(idOrName: string, signal?: AbortSignal): Promise<void> {
    await this.request('DELETE', `/networks/${encodeURIComponent(idOrName)}`, { signal });
  }

  async connectNetwork(network: string, container: string, endpoint: EndpointSettings, signal?: AbortSignal): Promise<void> {
    await this.request('POST', `/networks/${encodeURIComponent(network)}/connect`, {
      body: { Container: container, EndpointConfig: endpoint },
      signal,
    });
  }

  async disconnectNetwork(network: string, container: string, signal?: AbortSignal): Promise<void> {
    await this.request('POST', `/networks/${encodeURIComponent(network)}/disconnect`, {
      body: { Container: container, Force: true },
      signal,
    });
  }

  // ---- events ----

  /** The engine's event stream, one parsed event per callback, until `signal` aborts or the stream ends. */
  async events(
    filters: Filters,
    since: string | undefined,
    onEvent: (e: EngineEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const body = await this.stream('/events', { filters: encodeFilters(filters), since }, signal);
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      body.setEncoding('utf8');
      body.on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line) continue;
          try {
            onEvent(JSON.parse(line) as EngineEvent);
          } catch {
            // a malformed line is skipped; the stream goes on
          }
        }
      });
      body.on('end', () => resolve());
      body.on('close', () => resolve());
      body.on('error', (err) => (signal.aborted ? resolve() : reject(new EngineUnavailableError('GET', '/events', err))));
    });
  }
}
