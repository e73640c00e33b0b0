import { lstat, unlink } from 'node:fs/promises';
import type { Server as HttpServer } from 'node:http';
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { CONTRACT_VERSION, supports, type GuardedDriver } from '@nova-common/core';
import { guardVifPlugin, guardVolumeConnector } from '@nova-common/core/plugs';
import { HealthImplementation } from 'grpc-health-check';
import { pino, type Logger } from 'pino';
import { serviceDefinition } from '../grpc/service-definition.js';
import { WIRE_OPERATIONS } from '../mapping/operations.js';
import { AGENT_VERSION } from '../version.js';
import * as pb from '../wire.js';
import { InFlight, type ListenerPolicy, type ServiceContext } from './context.js';
import { EventLog } from './event-log.js';
import { Journal } from './journal.js';
import { grpcTarget, isLoopback, ListenError, type ListenerSpec } from './listen-address.js';
import { AgentMetrics, serveMetrics } from './metrics.js';
import { DEFAULTS, type AgentOptions } from './options.js';
import { plugImplementation, type ServedPlugs } from './plug-handler.js';
import { reflectionService } from './reflection.js';
import { unaryHandler } from './unary-handler.js';
import { prepareSocketPath, resolveGroup, securePermissions, withSocketUmask } from './unix-socket.js';
import { Watchers, watchHandler } from './watch-handler.js';

export const COMPUTE_SERVICE_NAME = pb.ComputeService.typeName;
export const VIF_PLUGS_SERVICE_NAME = pb.VifPlugsService.typeName;
export const VOLUME_CONNECTORS_SERVICE_NAME = pb.VolumeConnectorsService.typeName;

/** A running agent. */
export interface Agent {
  /** What each listener is bound to (`tcp://127.0.0.1:<port>` with the real port for port 0). */
  readonly addresses: readonly { readonly address: string; readonly role: string }[];
  /** The port of the metrics listener, when there is one. */
  readonly metricsPort: number | undefined;
  /** The id of this run's event stream. */
  readonly streamId: string | undefined;
  readonly journal: Journal;
  /**
   * Stop: refuse new calls, let running ones finish for up to `graceMs` (default the
   * configured grace), cancel the rest, then release the driver and the journal.
   */
  shutdown(graceMs?: number): Promise<void>;
}

/** Check every listener before anything is bound: plaintext TCP only on loopback, when asked. */
export function checkListeners(listeners: readonly ListenerSpec[], tls: boolean, insecureLoopback: boolean): void {
  if (listeners.length === 0) throw new ListenError('no listener: give --listen (and --listen-role) addresses');
  for (const { address } of listeners) {
    if (address.kind !== 'tcp' || tls) continue;
    if (!isLoopback(address.host)) {
      throw new ListenError(`${address.text}: TCP needs mutual TLS (--tls-cert, --tls-key, --tls-ca); plaintext is refused on a non-loopback address`);
    }
    if (!insecureLoopback) throw new ListenError(`${address.text}: plaintext TCP needs mutual TLS, or --insecure-loopback on a loopback address`);
  }
}

function implementation(ctx: ServiceContext, policy: ListenerPolicy, watchers: Watchers): UntypedServiceImplementation {
  const handlers: UntypedServiceImplementation = {};
  for (const wire of Object.values(WIRE_OPERATIONS)) handlers[wire.method.localName] = unaryHandler(wire, ctx, policy) as never;
  handlers['watchEvents'] = watchHandler(ctx, policy, watchers) as never;
  return handlers;
}

function subscribe(driver: GuardedDriver, events: EventLog, log: Logger): () => void {
  return driver.subscribeEvents((event) => {
    try {
      events.append(event);
    } catch (error) {
      log.warn({ err: (error as Error).message, event }, 'an event could not be put on the wire; dropped');
    }
  });
}

/**
 * Serve a guarded driver over gRPC: one grpc-js server per listener (a unix socket per role,
 * or TCP with mutual TLS), each with the ComputeService, the plug services (VifPlugsService,
 * VolumeConnectorsService: the plugs given, behind the plug guard), standard health checking
 * and server reflection. Calls initHost before listening and cleanupHost after the shutdown.
 */
export async function startAgent(options: AgentOptions): Promise<Agent> {
  const log = options.logger ?? pino({ level: 'silent' });
  const tls = options.tls;
  checkListeners(options.listeners, tls !== undefined, options.insecureLoopback ?? false);
  const gid = options.socketGroup === undefined ? undefined : typeof options.socketGroup === 'number' ? options.socketGroup : await resolveGroup(options.socketGroup);

  const journal = options.stateDir === undefined ? Journal.inMemory(options.journal) : await Journal.open(options.stateDir, options.journal);
  const { driver } = options;
  await driver.initHost();
  const caps = await driver.getCapabilities();
  const events = supports(caps, 'event.lifecycle') ? new EventLog(options.eventBuffer ?? DEFAULTS.eventBuffer) : undefined;
  const unsubscribe = events === undefined ? () => undefined : subscribe(driver, events, log);

  const metrics = new AgentMetrics();
  const inFlight = new InFlight();
  const watchers = new Watchers();
  const ctx: ServiceContext = {
    driver,
    journal,
    events,
    metrics,
    log,
    inFlight,
    identity: { driverName: options.driverName, driverVersion: options.driverVersion, driverContract: options.driverContract ?? `^${CONTRACT_VERSION}`, agentVersion: AGENT_VERSION, contractVersion: CONTRACT_VERSION },
  };
  // The plug services are always there: without a plug of the kind they answer UNIMPLEMENTED
  // with an UNSUPPORTED detail, and health does not know them.
  const plugs: ServedPlugs = {
    vif: options.vifPlugin === undefined ? undefined : guardVifPlugin(options.vifPlugin),
    volume: options.volumeConnector === undefined ? undefined : guardVolumeConnector(options.volumeConnector),
  };
  const served = [COMPUTE_SERVICE_NAME, ...(plugs.vif === undefined ? [] : [VIF_PLUGS_SERVICE_NAME]), ...(plugs.volume === undefined ? [] : [VOLUME_CONNECTORS_SERVICE_NAME])];
  const health = new HealthImplementation(Object.fromEntries(['', ...served].map((name) => [name, 'SERVING' as const])));
  const reflection = reflectionService();
  const definition = serviceDefinition(pb.ComputeService);
  const vifDefinition = serviceDefinition(pb.VifPlugsService);
  const volumeDefinition = serviceDefinition(pb.VolumeConnectorsService);
  const maxBytes = options.maxMessageBytes ?? DEFAULTS.maxMessageBytes;
  const servers: Server[] = [];
  const sockets: string[] = [];
  const addresses: { address: string; role: string }[] = [];
  let metricsServer: HttpServer | undefined;
  let metricsPort: number | undefined;

  const release = async () => {
    unsubscribe();
    await Promise.allSettled(servers.map((s) => new Promise<void>((resolve) => s.tryShutdown(() => resolve()))));
    for (const path of sockets) await unlink(path).catch(() => undefined);
    await new Promise<void>((resolve) => (metricsServer === undefined ? resolve() : metricsServer.close(() => resolve())));
    await journal.close();
  };

  try {
    for (const spec of options.listeners) {
      const server = new Server({
        'grpc.max_receive_message_length': maxBytes,
        'grpc.max_send_message_length': maxBytes,
        'grpc.max_concurrent_streams': options.maxConcurrentStreams ?? DEFAULTS.maxConcurrentStreams,
        'grpc.keepalive_time_ms': 60_000,
        'grpc.keepalive_timeout_ms': 20_000,
        // channelz bookkeeping costs a few percent per call and nothing here reads it.
        'grpc.enable_channelz': 0,
      });
      const policy: ListenerPolicy = { listener: spec.address.text, role: spec.role, tls: spec.address.kind === 'tcp' && tls !== undefined };
      server.addService(definition, implementation(ctx, policy, watchers));
      server.addService(vifDefinition, plugImplementation('vif', plugs, ctx, policy));
      server.addService(volumeDefinition, plugImplementation('volume', plugs, ctx, policy));
      health.addToServer(server);
      reflection.addToServer(server);
      servers.push(server);
      const credentials = policy.tls
        ? ServerCredentials.createSsl(Buffer.from(tls!.ca), [{ cert_chain: Buffer.from(tls!.cert), private_key: Buffer.from(tls!.key) }], true)
        : ServerCredentials.createInsecure();
      const bind = () =>
        new Promise<number>((resolve, reject) => server.bindAsync(grpcTarget(spec.address), credentials, (error, port) => (error ? reject(error) : resolve(port))));
      if (spec.address.kind === 'unix') {
        const path = spec.address.path;
        await prepareSocketPath(path);
        await withSocketUmask(bind);
        sockets.push(path);
        if (!(await lstat(path)).isSocket()) throw new ListenError(`${path} is not a socket after binding`);
        await securePermissions(path, gid);
        addresses.push({ address: spec.address.text, role: spec.role });
      } else {
        const port = await bind();
        const host = spec.address.host.includes(':') ? `[${spec.address.host}]` : spec.address.host;
        addresses.push({ address: `tcp://${host}:${port}`, role: spec.role });
      }
    }
    if (options.metrics !== undefined) ({ server: metricsServer, port: metricsPort } = await serveMetrics(metrics, options.metrics));
  } catch (error) {
    for (const s of servers) s.forceShutdown();
    await release().catch(() => undefined);
    await driver.cleanupHost().catch(() => undefined);
    throw error;
  }
  log.info({ addresses, driver: options.driverName, vifPlugin: plugs.vif?.name, volumeConnector: plugs.volume?.name, streamId: events?.streamId, metricsPort }, 'serving');

  let stopping: Promise<void> | undefined;
  const shutdown = (graceMs = options.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs): Promise<void> => {
    stopping ??= (async () => {
      log.info({ inFlight: inFlight.size, graceMs }, 'shutting down');
      for (const name of ['', ...served]) health.setStatus(name, 'NOT_SERVING');
      watchers.closeAll('the agent is shutting down');
      const drained = Promise.allSettled(servers.map((s) => new Promise<void>((resolve) => s.tryShutdown(() => resolve()))));
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'grace over'>((resolve) => (timer = setTimeout(() => resolve('grace over'), graceMs)));
      if ((await Promise.race([drained.then(() => 'drained' as const), graceOver])) === 'grace over') {
        log.warn({ inFlight: inFlight.size }, 'grace period over: cancelling the calls still running');
        inFlight.cancelAll('the agent is shutting down');
        // The cancelled calls answer CANCELLED as their drivers stop; then the connections go.
        await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
        for (const s of servers) s.forceShutdown();
      }
      clearTimeout(timer);
      await release();
      await driver.cleanupHost().catch((error: unknown) => log.warn({ err: String(error) }, 'cleanupHost failed'));
      log.info('stopped');
    })();
    return stopping;
  };

  return { addresses, metricsPort, streamId: events?.streamId, journal, shutdown };
}
