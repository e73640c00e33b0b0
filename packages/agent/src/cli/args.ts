import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { LevelWithSilent } from 'pino';
import { parseListenAddress, parseRoleListener, type ListenerSpec } from '../server/listen-address.js';
import type { ServeDriverOptions } from '../server/serve-driver.js';

export const USAGE = `Usage: nova-agent serve --driver <package|path> [options]

Serve a nova-common compute driver over gRPC (nova_common.compute.v1.ComputeService), and the
host's plugs (VifPlugsService, VolumeConnectorsService) when given.

  --driver <package|path>      the driver package (resolved from the working directory) or module path
  --config <file.json>         the driver's configuration (default {})
  --listen <address>           a listener for the compute role (all operations); repeatable
                                 unix:///run/nova-common/agent.sock, or tcp://host:port (needs TLS)
  --listen-role <role>=<addr>  a listener for one role: network, volume, reader (or compute); repeatable
  --socket-group <group>       group owning the unix sockets (mode 0660): its members hold the socket's role
  --tls-cert, --tls-key <pem>  the agent's certificate and key (TCP listeners)
  --tls-ca <pem>               the CA of the callers' certificates (mutual TLS; the role is the
                                 certificate's OU or URI SAN nova-common:role:<role>)
  --insecure-loopback          allow plaintext TCP on loopback addresses (never on others)
  --state-dir <dir>            where the idempotency journal lives (default: in memory)
  --metrics <host:port>        serve Prometheus metrics on this loopback address
  --event-buffer <n>           events kept for watchers to resume (default 10000)
  --max-message-bytes <n>      largest message (default 4194304)
  --shutdown-grace <ms>        on SIGTERM, how long running calls may finish (default 30000)
  --validate-outputs <mode>    what the guard checks of the driver's answers: all (default), sampled, none
  --no-capability-gate         let calls of capabilities the driver declares missing reach it (it must
                                 answer UNSUPPORTED itself): for conformance runs through the agent
  --vif-plugin <module#factory>
                               serve this VIF plugin (VifPlugsService): a package or module path and the
                                 factory it exports, e.g. @nova-common/plugs#createVethPlugin
  --vif-plugin-config <file.json>
                               the object the VIF plugin's factory is called with (default {})
  --volume-connector <module#factory>
                               serve this volume connector (VolumeConnectorsService), e.g.
                                 @nova-common/plugs#createLoopConnector
  --volume-connector-config <file.json>
                               the object the volume connector's factory is called with (default {})
  --log-level <level>          fatal, error, warn, info (default), debug, trace, silent
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A plug to load: its module and factory (`<package|path>#<export>`) and the factory's argument. */
export interface PlugCommand {
  specifier: string;
  config: unknown;
}

export interface ServeCommand {
  driver: string;
  config: unknown;
  vifPlugin?: PlugCommand;
  volumeConnector?: PlugCommand;
  options: ServeDriverOptions;
  logLevel: LevelWithSilent;
}

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} expects a whole number, not ${value}`);
  return Number(value);
}

async function readText(name: string, path: string | undefined, cwd: string): Promise<string | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(resolve(cwd, path), 'utf8');
  } catch (error) {
    throw new UsageError(`--${name} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** A JSON configuration file (`{}` when not given). */
async function readJson(name: string, path: string | undefined, cwd: string): Promise<unknown> {
  const text = await readText(name, path, cwd);
  if (text === undefined) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`--${name} ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** `serve` and its options, files read, addresses parsed: everything checked before anything starts. */
export async function parseServe(argv: string[], cwd: string): Promise<ServeCommand> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      driver: { type: 'string' },
      config: { type: 'string' },
      listen: { type: 'string', multiple: true },
      'listen-role': { type: 'string', multiple: true },
      'socket-group': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
      'insecure-loopback': { type: 'boolean' },
      'state-dir': { type: 'string' },
      metrics: { type: 'string' },
      'event-buffer': { type: 'string' },
      'max-message-bytes': { type: 'string' },
      'shutdown-grace': { type: 'string' },
      'log-level': { type: 'string' },
      'validate-outputs': { type: 'string' },
      'no-capability-gate': { type: 'boolean' },
      'vif-plugin': { type: 'string' },
      'vif-plugin-config': { type: 'string' },
      'volume-connector': { type: 'string' },
      'volume-connector-config': { type: 'string' },
    },
  });
  if (values.driver === undefined) throw new UsageError('--driver is required');
  const listeners: ListenerSpec[] = [
    ...(values.listen ?? []).map((text) => ({ role: 'compute' as const, address: parseListenAddress(text) })),
    ...(values['listen-role'] ?? []).map(parseRoleListener),
  ];
  if (listeners.length === 0) throw new UsageError('give at least one --listen or --listen-role address');
  const tlsParts = [values['tls-cert'], values['tls-key'], values['tls-ca']];
  if (tlsParts.some((p) => p !== undefined) && tlsParts.some((p) => p === undefined)) throw new UsageError('--tls-cert, --tls-key and --tls-ca go together');
  const [cert, key, ca] = await Promise.all([readText('tls-cert', values['tls-cert'], cwd), readText('tls-key', values['tls-key'], cwd), readText('tls-ca', values['tls-ca'], cwd)]);
  const config = await readJson('config', values.config, cwd);
  for (const [plug, file] of [['vif-plugin', values['vif-plugin-config']], ['volume-connector', values['volume-connector-config']]] as const) {
    if (file !== undefined && values[plug] === undefined) throw new UsageError(`--${plug}-config needs --${plug}`);
  }
  const vifPlugin = values['vif-plugin'] === undefined ? undefined : { specifier: values['vif-plugin'], config: await readJson('vif-plugin-config', values['vif-plugin-config'], cwd) };
  const volumeConnector =
    values['volume-connector'] === undefined ? undefined : { specifier: values['volume-connector'], config: await readJson('volume-connector-config', values['volume-connector-config'], cwd) };
  const logLevel = values['log-level'] ?? 'info';
  if (!LEVELS.includes(logLevel)) throw new UsageError(`--log-level expects one of ${LEVELS.join(', ')}`);
  const validate = values['validate-outputs'] ?? 'all';
  if (!['all', 'sampled', 'none'].includes(validate)) throw new UsageError('--validate-outputs expects all, sampled or none');
  const options: ServeDriverOptions = {
    resolveFrom: cwd,
    guard: { validateOutputs: validate as 'all' | 'sampled' | 'none', enforceCapabilities: !(values['no-capability-gate'] ?? false) },
    listeners,
    ...(cert !== undefined && key !== undefined && ca !== undefined ? { tls: { cert, key, ca } } : {}),
    insecureLoopback: values['insecure-loopback'] ?? false,
    ...(values['socket-group'] === undefined ? {} : { socketGroup: values['socket-group'] }),
    ...(values['state-dir'] === undefined ? {} : { stateDir: resolve(cwd, values['state-dir']) }),
    ...(values.metrics === undefined ? {} : { metrics: values.metrics }),
    ...(values['event-buffer'] === undefined ? {} : { eventBuffer: int('event-buffer', values['event-buffer'])! }),
    ...(values['max-message-bytes'] === undefined ? {} : { maxMessageBytes: int('max-message-bytes', values['max-message-bytes'])! }),
    ...(values['shutdown-grace'] === undefined ? {} : { shutdownGraceMs: int('shutdown-grace', values['shutdown-grace'])! }),
  };
  return {
    driver: values.driver,
    config,
    ...(vifPlugin === undefined ? {} : { vifPlugin }),
    ...(volumeConnector === undefined ? {} : { volumeConnector }),
    options,
    logLevel: logLevel as LevelWithSilent,
  };
}
