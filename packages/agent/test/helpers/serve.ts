import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guard, type ComputeDriver, type GuardedDriver, type GuardOptions } from '@nova-common/core';
import { createReferenceDriver, type ReferenceDriver, type ReferenceDriverConfig } from '@nova-common/core/testing';
import { createRemoteDriver, type RemoteDriver, type RemoteDriverOptions } from '../../src/client/remote-driver.js';
import { startAgent, type Agent } from '../../src/server/agent.js';
import type { AgentOptions } from '../../src/server/options.js';
import type { ListenerSpec } from '../../src/server/listen-address.js';
import { parseListenAddress } from '../../src/server/listen-address.js';
import type { Role } from '../../src/server/roles.js';

export interface Served {
  dir: string;
  /** The reference driver behind the agent (its state is the truth a test checks). */
  reference: ReferenceDriver;
  agent: Agent;
  socket(role?: Role): string;
  /** A guarded remote driver on the socket of `role`, already initialised. */
  connect(role?: Role, options?: Partial<RemoteDriverOptions>, guardOptions?: GuardOptions): Promise<GuardedDriver & { raw: RemoteDriver }>;
  close(): Promise<void>;
}

/** A temporary directory, removed by the returned function. */
export function tempDir(prefix = 'nova-agent-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The reference driver served by the agent on one unix socket per role in a temp dir.
 * `raw` lets a test wrap the reference driver (a slow one); `agentOptions` adds to the agent's.
 */
export async function serveReference(
  config: ReferenceDriverConfig = {},
  options: { agent?: Partial<AgentOptions>; wrap?: (d: ReferenceDriver) => ComputeDriver; dir?: string; roles?: Role[] } = {},
): Promise<Served> {
  const own = options.dir === undefined ? tempDir() : { dir: options.dir, remove: () => undefined };
  const reference = createReferenceDriver(config);
  const served = options.wrap === undefined ? reference : options.wrap(reference);
  const roles = options.roles ?? ['compute', 'network', 'volume', 'reader'];
  const socket = (role: Role = 'compute') => join(own.dir, `${role}.sock`);
  const listeners: ListenerSpec[] = roles.map((role) => ({ role, address: parseListenAddress(`unix://${socket(role)}`) }));
  const agent = await startAgent({ driver: guard(served), driverName: '@nova-common/core/testing', driverVersion: '1.0.0', listeners, ...options.agent });
  const remotes: GuardedDriver[] = [];
  return {
    dir: own.dir,
    reference,
    agent,
    socket,
    async connect(role = 'compute', remoteOptions = {}, guardOptions) {
      const raw = createRemoteDriver({ endpoint: `unix://${socket(role)}`, ...remoteOptions });
      const driver = guard(raw, guardOptions);
      await driver.initHost();
      remotes.push(driver);
      return driver as GuardedDriver & { raw: RemoteDriver };
    },
    async close() {
      for (const r of remotes) await r.cleanupHost().catch(() => undefined);
      await agent.shutdown(1000);
      own.remove();
    },
  };
}
