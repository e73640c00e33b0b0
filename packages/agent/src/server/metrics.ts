import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { isLoopback, ListenError } from './listen-address.js';

/** Label children are looked up once per (operation, code) and kept: prom-client hashes labels on every lookup. */
class Children<T> {
  private readonly map = new Map<string, T>();
  constructor(private readonly make: (...labels: string[]) => T) {}
  get(...labels: string[]): T {
    const key = labels.join('\u0000');
    let child = this.map.get(key);
    if (child === undefined) this.map.set(key, (child = this.make(...labels)));
    return child;
  }
}

/**
 * The agent's Prometheus metrics, in a registry of its own:
 * - nova_agent_calls_total{operation,code}: calls answered, by contract code (OK for success,
 *   PERMISSION_DENIED for calls refused at the wall);
 * - nova_agent_call_errors_total{operation,code}: the failed ones only;
 * - nova_agent_call_duration_seconds{operation}: latency from arrival to answer;
 * - nova_agent_calls_in_flight{operation}: calls being served;
 * - nova_agent_event_watchers: open WatchEvents streams;
 * plus the process metrics prom-client collects by default (prefixed nova_agent_).
 */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly calls: Children<Counter.Internal>;
  private readonly errors: Children<Counter.Internal>;
  private readonly durations: Children<Histogram.Internal<'operation'>>;
  private readonly inFlight: Children<Gauge.Internal<'operation'>>;
  readonly watchers: Gauge;

  constructor() {
    const registers = [this.registry];
    const calls = new Counter({ name: 'nova_agent_calls_total', help: 'Calls answered, by operation and contract code (OK on success).', labelNames: ['operation', 'code'], registers });
    const errors = new Counter({ name: 'nova_agent_call_errors_total', help: 'Failed calls, by operation and contract code.', labelNames: ['operation', 'code'], registers });
    const durations = new Histogram({
      name: 'nova_agent_call_duration_seconds',
      help: 'Time from a call arriving to its answer, by operation.',
      labelNames: ['operation'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600],
      registers,
    });
    const inFlight = new Gauge({ name: 'nova_agent_calls_in_flight', help: 'Calls being served, by operation.', labelNames: ['operation'], registers });
    this.watchers = new Gauge({ name: 'nova_agent_event_watchers', help: 'Open WatchEvents streams.', registers });
    this.calls = new Children((op, code) => calls.labels(op!, code!));
    this.errors = new Children((op, code) => errors.labels(op!, code!));
    this.durations = new Children((op) => durations.labels(op!));
    this.inFlight = new Children((op) => inFlight.labels(op!));
    collectDefaultMetrics({ register: this.registry, prefix: 'nova_agent_' });
  }

  /** A call arrived; the returned function records its end with its code. */
  begin(operation: string): (code: string) => void {
    const started = performance.now();
    const gauge = this.inFlight.get(operation);
    gauge.inc();
    return (code) => {
      gauge.dec();
      this.calls.get(operation, code).inc();
      if (code !== 'OK') this.errors.get(operation, code).inc();
      this.durations.get(operation).observe((performance.now() - started) / 1000);
    };
  }

  /** A call refused before it was served (role, malformed frame). */
  refused(operation: string, code: string): void {
    this.calls.get(operation, code).inc();
    this.errors.get(operation, code).inc();
  }
}

/** Serve `/metrics` on a loopback address (`127.0.0.1:9464`); other addresses are refused. */
export async function serveMetrics(metrics: AgentMetrics, hostPort: string): Promise<{ server: Server; port: number }> {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]+):(\d{1,5})$/.exec(hostPort);
  if (m === null) throw new ListenError(`--metrics ${hostPort}: expected host:port, e.g. 127.0.0.1:9464`);
  const host = m[1]!.replace(/^\[|\]$/g, '');
  if (!isLoopback(host)) throw new ListenError(`--metrics ${hostPort}: the metrics listener only binds a loopback address`);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(m[2]), host, () => resolve());
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address !== null ? address.port : Number(m[2]) };
}
