import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { instanceLabels, type Naming } from '../src/mapping/labels.js';

/**
 * A recording stand-in for an engine's API on a unix socket, for unit tests of what the driver sends to each
 * engine kind. It answers only the calls these tests make: one instance container in a given state, networks
 * created on demand, and an events stream that records its query and ends.
 */
export interface FakeEngine {
  socketPath: string;
  calls: string[];
  /** Every request's method, path and query, in order. */
  urls: string[];
  /** The instance container: its status, the exit code of its last run, and that run's start time. */
  state: { status: 'running' | 'paused' | 'exited'; exitCode: number; startedAt: string; networks: Record<string, { Aliases: string[] }> };
  eventQueries: URLSearchParams[];
  /** Networks that exist now. */
  networks: Set<string>;
  /** When set, every network connect fails with this 500 answer (after the network was made). */
  failConnect: { message: string } | undefined;
  close(): Promise<void>;
}

const naming: Naming = { namePrefix: 'nova', labelPrefix: 'io.nova-common', ownerId: 'unit' };
/** The instance container's id (engines use 64 hex digits). */
export const CONTAINER_ID = 'c1'.repeat(32);

export async function fakeEngine(kind: 'docker' | 'podman', uuid: string): Promise<FakeEngine> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nova-fake-engine-'));
  const socketPath = path.join(dir, 'engine.sock');
  const calls: string[] = [];
  const urls: string[] = [];
  const eventQueries: URLSearchParams[] = [];
  const state: FakeEngine['state'] = { status: 'running', exitCode: 0, startedAt: '2026-01-01T00:00:00.000000001Z', networks: { 'nova-unit-base': { Aliases: [] } } };
  let runs = 1;
  const networks = new Set<string>(['nova-unit-base']);
  const labels = instanceLabels(naming, {
    uuid,
    name: 'unit',
    metadata: {},
    node: 'fake',
    volumes: [],
    flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 0, ephemeralGb: 0, swapMb: 0, extraSpecs: {} },
    image: { id: 'i', diskFormat: 'raw', containerFormat: 'docker', minDiskGb: 0, minRamMb: 0, properties: {} },
  });
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const url = new URL(req.url ?? '/', 'http://engine');
    const p = url.pathname.replace(/^\/v1\.\d+/, '');
    const method = req.method ?? 'GET';
    urls.push(`${method} ${p}${url.search}`);
    if (p === '/version') {
      const components = kind === 'podman' ? [{ Name: 'Podman Engine', Version: '4.3.1' }] : [{ Name: 'Engine', Version: '20.10.24' }];
      return json(res, 200, { Version: '1', ApiVersion: '1.41', Components: components });
    }
    if (p === '/info') return json(res, 200, { Name: 'fake', NCPU: 2, MemTotal: 4 * 1024 ** 3, DockerRootDir: '/nonexistent' });
    if (p === '/events') {
      eventQueries.push(url.searchParams);
      return json(res, 200, {});
    }
    if (p === '/containers/json') return json(res, 200, []);
    calls.push(`${method} ${p}${body ? ` ${body}` : ''}`);
    if (p === '/networks' && method === 'GET') {
      // The engine's name filter matches parts of names, as the real one does.
      const wanted = (JSON.parse(url.searchParams.get('filters') ?? '{}') as { name?: string[] }).name ?? [];
      const listed = [...networks].filter((n) => wanted.length === 0 || wanted.some((w) => n.includes(w)));
      return json(res, 200, listed.map((n) => ({ Id: n, Name: n, Created: '2026-01-01T00:00:00.000000001Z', Internal: true, Labels: { 'io.nova-common.owner': 'unit', 'io.nova-common.kind': 'network' }, Containers: {} })));
    }
    if (p === '/networks/create') {
      networks.add(JSON.parse(body).Name);
      return json(res, 201, { Id: JSON.parse(body).Name });
    }
    const net = /^\/networks\/([^/]+)(\/(connect|disconnect))?$/.exec(p);
    if (net) {
      const name = decodeURIComponent(net[1]!);
      if (!networks.has(name)) return json(res, 404, { message: 'network not found' });
      if (net[3] === 'connect' && fake.failConnect) return json(res, 500, fake.failConnect);
      if (!net[3] && method === 'DELETE') {
        networks.delete(name);
        res.writeHead(204);
        return res.end();
      }
      if (net[3] === 'connect') state.networks[name] = { Aliases: (JSON.parse(body).EndpointConfig?.Aliases as string[]) ?? [] };
      if (net[3] === 'disconnect') delete state.networks[name];
      if (net[3]) return json(res, 200, {});
      return json(res, 200, { Id: name, Name: name, Internal: true, Labels: { 'io.nova-common.owner': 'unit', 'io.nova-common.kind': 'network' }, Containers: {} });
    }
    if (p === `/containers/nova-${uuid}/json`) {
      return json(res, 200, {
        Id: CONTAINER_ID,
        Name: `/nova-${uuid}`,
        State: {
          Status: state.status,
          Paused: state.status === 'paused',
          Running: state.status !== 'exited',
          OOMKilled: false,
          ExitCode: state.status === 'exited' ? state.exitCode : 0,
          StartedAt: state.startedAt,
        },
        Config: { Labels: labels, Image: 'img' },
        HostConfig: {},
        NetworkSettings: { Networks: state.networks },
      });
    }
    const act = new RegExp(`^/containers/${CONTAINER_ID}/(stop|restart|pause|unpause|start|kill|wait)$`).exec(p);
    if (act) {
      const what = act[1]!;
      if (what === 'wait') return json(res, 200, { StatusCode: state.exitCode });
      // Both engines' answers to a paused container, as measured: podman refuses stop/restart; both kill it.
      if (kind === 'podman' && state.status === 'paused' && (what === 'stop' || what === 'restart')) {
        return json(res, 500, { message: 'container state improper' });
      }
      if (what === 'kill' && state.status === 'exited') {
        return kind === 'podman'
          ? json(res, 500, { message: `can only kill running containers. ${CONTAINER_ID} is in state exited: container state improper` })
          : json(res, 409, { message: `Cannot kill container: ${CONTAINER_ID}: Container ${CONTAINER_ID} is not running` });
      }
      if (what === 'start' || what === 'restart') {
        runs += 1;
        state.startedAt = `2026-01-01T00:00:00.00000000${runs}Z`;
      }
      if (what === 'kill') state.exitCode = 137;
      if (what === 'stop') state.exitCode = 143;
      state.status = what === 'pause' ? 'paused' : what === 'stop' || what === 'kill' ? 'exited' : 'running';
      res.writeHead(204);
      return res.end();
    }
    return json(res, 404, { message: `fake engine: no route ${method} ${p}` });
  };
  const fake: FakeEngine = {
    socketPath,
    calls,
    urls,
    state,
    eventQueries,
    networks,
    failConnect: undefined,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => handle(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return fake;
}
