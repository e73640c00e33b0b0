import { randomUUID } from 'node:crypto';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { guard, isDriverError } from '@nova-common/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createRemoteDriver } from '../../src/client/remote-driver.js';
import { instanceSpecToProto } from '../../src/mapping/instance-spec.js';
import { runAgent, runToEnd, PACKAGE_DIR, type RunningAgent } from '../helpers/cli.js';
import { tempDir } from '../helpers/serve.js';
import { spec } from '../helpers/specs.js';
import { checkHealth } from '../helpers/standard-clients.js';
import { WireClient } from '../helpers/wire-client.js';

const SLOW = join(PACKAGE_DIR, 'test/fixtures/slow-reference.mjs');

describe('nova-agent serve', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function dir(): string {
    const d = tempDir();
    cleanups.push(d.remove);
    return d.dir;
  }

  async function agent(args: string[]): Promise<RunningAgent> {
    const running = await runAgent(args);
    cleanups.push(() => (running.child.exitCode === null ? running.stop('SIGKILL') : undefined));
    return running;
  }

  it('serves a driver package on a socket per role, with metrics, and stops cleanly on SIGTERM', async () => {
    const d = dir();
    const running = await agent([
      '--driver', '@nova-common/core/testing',
      '--listen', `unix://${d}/agent.sock`,
      '--listen-role', `reader=unix://${d}/reader.sock`,
      '--metrics', '127.0.0.1:0',
      '--state-dir', d,
      '--log-level', 'warn',
    ]);
    expect(running.ready.addresses).toStrictEqual([
      { address: `unix://${d}/agent.sock`, role: 'compute' },
      { address: `unix://${d}/reader.sock`, role: 'reader' },
    ]);
    expect(statSync(`${d}/agent.sock`).mode & 0o777).toBe(0o660);
    const remote = guard(createRemoteDriver({ endpoint: `unix://${d}/agent.sock` }));
    await remote.initHost();
    const s = spec();
    await remote.spawn(s);
    expect((await remote.getInfo(s.uuid)).name).toBe('vm-1');
    expect(remote.raw).toMatchObject({ agent: { driverName: '@nova-common/core/testing', contractVersion: expect.stringMatching(/^1\./) } });
    await remote.cleanupHost();
    const metrics = await (await fetch(`http://127.0.0.1:${running.ready.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/nova_agent_calls_total\{operation="spawn",code="OK"\} 1/);
    expect(await running.stop()).toBe(0);
    expect(existsSync(`${d}/agent.sock`)).toBe(false);
  });

  it('on SIGTERM lets a running call finish within the grace period and refuses new ones', async () => {
    const d = dir();
    const config = join(d, 'slow.json');
    writeFileSync(config, JSON.stringify({ rebootMs: 800 }));
    const running = await agent(['--driver', SLOW, '--config', config, '--listen', `unix://${d}/agent.sock`, '--shutdown-grace', '5000', '--log-level', 'warn']);
    const remote = guard(createRemoteDriver({ endpoint: `unix://${d}/agent.sock`, retry: { attempts: 0 } }));
    cleanups.push(() => remote.cleanupHost());
    await remote.initHost();
    const s = spec();
    await remote.spawn(s);
    const reboot = remote.reboot(s.uuid, 'HARD');
    await new Promise((r) => setTimeout(r, 200));
    running.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    const late = await remote.getInfo(s.uuid).catch((e: unknown) => e);
    expect(isDriverError(late) && late.code).toBe('BACKEND_UNAVAILABLE');
    await expect(reboot).resolves.toBeUndefined();
    expect(await running.exited).toBe(0);
  });

  it('past the grace period cancels what still runs (CANCELLED to the caller) and exits', async () => {
    const d = dir();
    const config = join(d, 'slow.json');
    writeFileSync(config, JSON.stringify({ rebootMs: 30_000 }));
    const running = await agent(['--driver', SLOW, '--config', config, '--listen', `unix://${d}/agent.sock`, '--shutdown-grace', '300', '--log-level', 'warn']);
    const remote = guard(createRemoteDriver({ endpoint: `unix://${d}/agent.sock`, retry: { attempts: 0 } }));
    cleanups.push(() => remote.cleanupHost());
    await remote.initHost();
    const s = spec();
    await remote.spawn(s);
    const reboot = remote.reboot(s.uuid, 'HARD').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 200));
    running.child.kill('SIGTERM');
    const error = await reboot;
    expect(isDriverError(error) && error.code).toBe('CANCELLED');
    expect(await running.exited).toBe(0);
  });

  it('keeps its request journal in --state-dir across a restart', async () => {
    const d = dir();
    const args = ['--driver', '@nova-common/core/testing', '--listen', `unix://${d}/agent.sock`, '--state-dir', d, '--log-level', 'warn'];
    const requestId = randomUUID();
    const s = spec();
    let running = await agent(args);
    let wire = new WireClient(`unix://${d}/agent.sock`);
    expect((await wire.call('spawn', { requestId, spec: instanceSpecToProto(s) })).ok).toBe(true);
    wire.close();
    expect(await running.stop()).toBe(0);
    running = await agent(args);
    wire = new WireClient(`unix://${d}/agent.sock`);
    cleanups.push(() => wire.close());
    // Replayed from the journal (this in-memory driver forgot the instance with its process).
    expect((await wire.call('spawn', { requestId, spec: instanceSpecToProto(s) })).ok).toBe(true);
    const reused = await wire.call('spawn', { requestId, spec: instanceSpecToProto(spec()) });
    expect(!reused.ok && reused.grpcCode).toBe(status.INVALID_ARGUMENT);
    expect(await checkHealth(`unix://${d}/agent.sock`)).toBe('SERVING');
  });

  it('--no-capability-gate lets a call of a capability declared missing reach the driver', async () => {
    const d = dir();
    const leaky = join(PACKAGE_DIR, 'test/fixtures/leaky-pause.mjs');
    const outcomes: string[] = [];
    for (const gate of [[], ['--no-capability-gate']]) {
      const running = await agent(['--driver', leaky, '--listen', `unix://${d}/agent.sock`, '--log-level', 'warn', ...gate]);
      const remote = guard(createRemoteDriver({ endpoint: `unix://${d}/agent.sock` }), { enforceCapabilities: false });
      await remote.initHost();
      const s = spec();
      await remote.spawn(s);
      const result = await remote.pause(s.uuid).catch((e: unknown) => e);
      outcomes.push(result === undefined ? 'OK' : isDriverError(result) ? result.code : String(result));
      await remote.cleanupHost();
      expect(await running.stop()).toBe(0);
    }
    // Gated, the agent answers for the driver; ungated, the driver's own (wrong) answer shows.
    expect(outcomes).toStrictEqual(['UNSUPPORTED', 'OK']);
  });

  it('exits 2 with a message for what it refuses to start with', async () => {
    const d = dir();
    const cases: [string[], RegExp][] = [
      [['serve', '--driver', '@nova-common/core/testing', '--listen', 'tcp://0.0.0.0:7443', '--insecure-loopback'], /plaintext is refused on a non-loopback address/],
      [['serve', '--driver', '@nova-common/core/testing', '--listen', 'tcp://127.0.0.1:7443'], /insecure-loopback/],
      [['serve', '--driver', '@nova-common/no-such-driver', '--listen', `unix://${d}/a.sock`], /no-such-driver/],
      [['serve', '--driver', '@nova-common/core/testing'], /--listen/],
      [['serve', '--driver', '@nova-common/core/testing', '--listen', `unix://${d}/a.sock`, '--metrics', '0.0.0.0:9464'], /loopback/],
      [['serve', '--listen', `unix://${d}/a.sock`], /--driver is required/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await runToEnd(args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toMatch(message);
    }
    expect(existsSync(`${d}/a.sock`)).toBe(false);
  });
});
