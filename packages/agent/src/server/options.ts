import type { GuardedDriver } from '@nova-common/core';
import type { VifPlugin, VolumeConnector } from '@nova-common/core/plugs';
import type { Logger } from 'pino';
import type { JournalOptions } from './journal.js';
import type { ListenerSpec } from './listen-address.js';

/** PEM texts (or buffers) of the agent's TLS identity and of the CA its callers' certificates come from. */
export interface TlsFiles {
  cert: string | Buffer;
  key: string | Buffer;
  /** The CA that signs callers' certificates (mutual TLS: a caller without one is refused). */
  ca: string | Buffer;
}

export interface AgentOptions {
  /** The driver, guarded (what loadDriver returns). The agent calls initHost and cleanupHost. */
  driver: GuardedDriver;
  /**
   * The host's VIF plugin, served as VifPlugsService (to the network and compute roles). The
   * agent puts it behind the plug guard. Without it those RPCs answer UNIMPLEMENTED (UNSUPPORTED).
   */
  vifPlugin?: VifPlugin;
  /** The host's volume connector, served as VolumeConnectorsService (to the volume and compute roles), behind the plug guard. */
  volumeConnector?: VolumeConnector;
  /** Who the driver is (GetCapabilities reports it). */
  driverName: string;
  driverVersion: string;
  /** The contract range of the driver's manifest (default `^` + the contract this agent implements). */
  driverContract?: string;
  /** At least one. TCP listeners need `tls`, or a loopback address and `insecureLoopback`. */
  listeners: ListenerSpec[];
  tls?: TlsFiles;
  /** Allow plaintext TCP on loopback addresses (development, tests); never on other addresses. */
  insecureLoopback?: boolean;
  /** Group (name or gid) given to the unix sockets; its members hold the socket's role. */
  socketGroup?: string | number;
  /** Where the idempotency journal lives; without it, in memory (retries converge within one run). */
  stateDir?: string;
  journal?: JournalOptions;
  /** Events kept for watchers to resume (default 10,000). */
  eventBuffer?: number;
  /** Largest message received or sent (default 4 MiB). */
  maxMessageBytes?: number;
  /** Most calls served at once on one connection (HTTP/2 streams; default 1,000). */
  maxConcurrentStreams?: number;
  /** How long a shutdown lets calls finish before cancelling them (default 30 s). */
  shutdownGraceMs?: number;
  /** `127.0.0.1:9464`: serve Prometheus metrics there (loopback only). */
  metrics?: string;
  logger?: Logger;
}

export const DEFAULTS = {
  eventBuffer: 10_000,
  maxMessageBytes: 4 * 1024 * 1024,
  maxConcurrentStreams: 1000,
  shutdownGraceMs: 30_000,
} as const;
