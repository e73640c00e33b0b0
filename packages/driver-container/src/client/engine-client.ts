import { EngineHttpError, EngineUnavailableError } from './errors.js';

/** dockerd: "removal of container X is already in progress"; podman: "... is being removed". */
const REMOVAL_IN_PROGRESS = /removal of container .* is already in progress|is being removed|already being removed/i;
const REMOVAL_POLL_MS = 100;
import { EngineHttp, encodeFilters } from './http.js';
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

export type { EngineClientOptions } from './http.js';

/**
 * A thin Docker Engine API client over the engine's unix socket: the endpoints the driver
 * uses, on the transport of http.ts.
 *
 * Written on undici's Pool rather than dockerode: the driver needs a few dozen endpoints,
 * exact HTTP statuses (304 "already in that state", 409 "conflict") to map onto the
 * contract, AbortSignal on every call, and keep-alive connections so a call costs one
 * round trip (the benchmark's goal is within 1.1x of raw API calls). dockerode hides the
 * statuses behind its own error objects, pulls in docker-modem/ssh2, and its types target
 * v4. Every endpoint used here is also served by podman's Docker-compatible service.
 */
export class EngineClient extends EngineHttp {
  // ---- system ----

  /** Ask the engine its version and speak min(its version, MAX_API_VERSION). */
  async negotiate(signal?: AbortSignal): Promise<EngineVersion> {
    const v = await this.request<EngineVersion>('GET', '/version', { signal }, false);
    this.adoptVersion(v.body.ApiVersion);
    return v.body;
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
      extraMs: timeoutSeconds * 1000,
    });
    return r.status !== 304;
  }

  async restartContainer(id: string, timeoutSeconds: number, signal?: AbortSignal): Promise<void> {
    await this.request('POST', `/containers/${encodeURIComponent(id)}/restart`, {
      query: { t: timeoutSeconds },
      signal,
      extraMs: timeoutSeconds * 1000,
    });
  }

  /** Send a signal to the container's init (a SIGKILL ends a paused container too). */
  async killContainer(id: string, signalName: string, signal?: AbortSignal): Promise<void> {
    await this.request('POST', `/containers/${encodeURIComponent(id)}/kill`, { query: { signal: signalName }, signal });
  }

  /** Wait until the container is not running (at once when it is not); returns its exit code. */
  async waitNotRunning(id: string, signal?: AbortSignal): Promise<number> {
    const r = await this.request<{ StatusCode: number }>('POST', `/containers/${encodeURIComponent(id)}/wait`, {
      query: { condition: 'not-running' },
      signal,
      slow: true,
    });
    return r.body.StatusCode;
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
  /**
   * Remove a container (force: a running one is killed first). When a removal of it is already in
   * progress (one a cancelled call started: the engine finishes it without the caller), wait until it
   * is gone rather than answer 409: the caller wants it removed, and it soon is.
   */
  async removeContainer(id: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.request('DELETE', `/containers/${encodeURIComponent(id)}`, {
        query: { force: 'true', v: 'true' },
        signal,
        slow: true,
      });
    } catch (err) {
      if (!(err instanceof EngineHttpError && err.status === 409 && REMOVAL_IN_PROGRESS.test(err.engineMessage))) throw err;
      await this.waitGone(id, signal);
    }
  }

  /** Poll until the container is gone (404), for at most the slow request timeout. */
  private async waitGone(id: string, signal?: AbortSignal): Promise<void> {
    const until = Date.now() + this.longRequestTimeoutMs;
    for (;;) {
      try {
        await this.inspectContainer(id, signal);
      } catch (err) {
        if (err instanceof EngineHttpError && err.status === 404) return;
        throw err;
      }
      if (Date.now() > until) throw new EngineHttpError(409, 'DELETE', `/containers/${id}`, `removal of container ${id} still in progress`);
      await new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const t = setTimeout(resolve, REMOVAL_POLL_MS);
        signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
      });
    }
  }

  async containerLogs(id: string, tail: number, signal?: AbortSignal): Promise<Buffer> {
    return this.bytes(`/containers/${encodeURIComponent(id)}/logs`, { stdout: 1, stderr: 1, tail }, signal);
  }

  /**
   * Commit a container, unpaused as it is, into `repo:tag` with `labels`, plus Dockerfile
   * `changes` (podman takes labels only that way); returns the image id.
   */
  async commit(
    id: string,
    image: { repo: string; tag: string; labels: Record<string, string>; changes: readonly string[] },
    signal?: AbortSignal,
  ): Promise<string> {
    const r = await this.request<{ Id: string }>('POST', '/commit', {
      query: { container: id, repo: image.repo, tag: image.tag, pause: 'false' },
      repeated: { key: 'changes', values: image.changes },
      body: { Labels: image.labels },
      signal,
      slow: true,
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

  // ---- networks ----

  /** An internal (no route out, no NAT), attachable bridge network. */
  async createNetwork(name: string, labels: Record<string, string>, signal?: AbortSignal): Promise<void> {
    await this.request('POST', '/networks/create', {
      body: { Name: name, Driver: 'bridge', Internal: true, CheckDuplicate: true, Attachable: true, Labels: labels },
      signal,
    });
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
  async events(filters: Filters, since: string, onEvent: (e: EngineEvent) => void, signal: AbortSignal): Promise<void> {
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
