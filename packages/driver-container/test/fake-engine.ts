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
  state: { status: 'running' | 'paused' | 'exited'; networks: Record<string, { Aliases: string[] }> };
  eventQueries: URLSearchParams[];
  close(): Promise<void>;
}

const naming: Naming = { namePrefix: 'nova', labelPrefix: 'io.nova-common', ownerId: 'unit' };

export async function fakeEngine(kind: 'docker' | 'podman', uuid: string): Promise<FakeEngine> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nova-fake-engine-'));
  const socketPath = path.join(dir, 'engine.sock');
  const calls: string[] = [];
  const eventQueries: URLSearchParams[] = [];
  const state: FakeEngine['state'] = { status: 'running', networks: { 'nova-unit-base': { Aliases: [] } } };
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
    if (p === '/networks/create') {
      networks.add(JSON.parse(body).Name);
      return json(res, 201, { Id: JSON.parse(body).Name });
    }
    const net = /^\/networks\/([^/]+)(\/(connect|disconnect))?$/.exec(p);
    if (net) {
      const name = decodeURIComponent(net[1]!);
      if (!networks.has(name)) return json(res, 404, { message: 'network not found' });
      if (net[3] === 'connect') state.networks[name] = { Aliases: (JSON.parse(body).EndpointConfig?.Aliases as string[]) ?? [] };
      if (net[3] === 'disconnect') delete state.networks[name];
      if (net[3]) return json(res, 200, {});
      return json(res, 200, { Id: name, Name: name, Internal: true, Labels: { 'io.nova-common.owner': 'unit', 'io.nova-common.kind': 'network' }, Containers: {} });
    }
    if (p === `/containers/nova-${uuid}/json`) {
      return json(res, 200, {
        Id: 'c1',
        Name: `/nova-${uuid}`,
        State: { Status: state.status, Paused: state.status === 'paused', Running: state.status !== 'exited', OOMKilled: false },
        Config: { Labels: labels, Image: 'img' },
        HostConfig: {},
        NetworkSettings: { Networks: state.networks },
      });
    }
    const act = /^\/containers\/c1\/(stop|restart|pause|unpause|start)$/.exec(p);
    if (act) {
      // Both engines' answers to a paused container, as measured: podman refuses stop/restart.
      if (kind === 'podman' && state.status === 'paused' && (act[1] === 'stop' || act[1] === 'restart')) {
        return json(res, 500, { message: 'container state improper' });
      }
      state.status = act[1] === 'pause' ? 'paused' : act[1] === 'stop' ? 'exited' : 'running';
      res.writeHead(204);
      return res.end();
    }
    return json(res, 404, { message: `fake engine: no route ${method} ${p}` });
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => handle(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    calls,
    state,
    eventQueries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
