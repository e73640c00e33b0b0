import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { guard, isDriverError, type GuardedDriver, type LifecycleEvent } from '@nova-common/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteDriver } from '../../src/client/remote-driver.js';
import { instanceSpecToProto } from '../../src/mapping/instance-spec.js';
import { PACKAGE_DIR } from '../helpers/cli.js';
import { tempDir } from '../helpers/serve.js';
import { spec } from '../helpers/specs.js';
import { WireClient } from '../helpers/wire-client.js';

const EXAMPLE = join(PACKAGE_DIR, '../../examples/python-driver');
const PYTHON = '/usr/bin/python3';

async function error(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p;
    return { code: 'OK' };
  } catch (e) {
    if (!isDriverError(e)) throw e;
    return { code: e.code, currentState: e.currentState, capability: e.capability, issues: e.issues, op: e.op };
  }
}

describe('a driver written in Python (examples/python-driver) behind the same wire', () => {
  const dir = tempDir('nova-agent-python-');
  const socket = join(dir.dir, 'python.sock');
  let server: ChildProcess;
  let driver: GuardedDriver;
  let lenient: GuardedDriver;

  beforeAll(async () => {
    execFileSync(PYTHON, ['-c', 'import grpc, google.protobuf'], { stdio: 'pipe' });
    execFileSync(join(EXAMPLE, 'build.sh'), [join(dir.dir, 'build')], { stdio: 'pipe' });
    server = spawn(PYTHON, [join(EXAMPLE, 'server.py'), '--listen', `unix://${socket}`, '--build-dir', join(dir.dir, 'build')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    server.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    await new Promise<void>((resolve, reject) => {
      server.stdout!.on('data', (b: Buffer) => (b.toString().includes('ready') ? resolve() : undefined));
      server.once('exit', (code) => reject(new Error(`the Python server exited with ${code}: ${stderr}`)));
    });
    // The example is built against contract 1.0: its guard holds it to 1.0, as loadDriver does
    // for @nova-common/agent/remote (manifest range ^1.0.0).
    driver = guard(createRemoteDriver({ endpoint: `unix://${socket}` }), { contractBaseline: '1.0.0' });
    await driver.initHost();
    // Without the client's capability gate, so the Python server's own UNSUPPORTED answers.
    lenient = guard(createRemoteDriver({ endpoint: `unix://${socket}` }), { enforceCapabilities: false, contractBaseline: '1.0.0' });
    await lenient.initHost();
  });
  afterAll(async () => {
    await driver?.cleanupHost();
    await lenient?.cleanupHost();
    server?.kill('SIGTERM');
    await new Promise((r) => server?.once('exit', r));
    dir.remove();
  });

  it('declares its capabilities as the contract requires (the client guard validates them)', async () => {
    const caps = await driver.getCapabilities();
    expect(caps.capabilities['operation.pause'].level).toBe('complete');
    expect(caps.capabilities['operation.suspend'].level).toBe('missing');
    expect((driver.raw as { agent?: { driverName: string } }).agent?.driverName).toBe('python-memory-driver');
  });

  it('follows the semantics table, and its events arrive before each call resolves', async () => {
    const seen: LifecycleEvent[] = [];
    const unsubscribe = driver.subscribeEvents((e) => seen.push(e));
    const s = spec();
    await driver.spawn(s);
    expect((await driver.getInfo(s.uuid.toUpperCase())).powerState).toBe('RUNNING');
    await driver.pause(s.uuid);
    await driver.pause(s.uuid);
    expect((await driver.getInfo(s.uuid)).powerState).toBe('PAUSED');
    await driver.powerOff(s.uuid);
    expect(await error(driver.pause(s.uuid))).toMatchObject({ code: 'INVALID_STATE', currentState: 'SHUTDOWN', op: 'pause' });
    await driver.powerOn(s.uuid);
    expect(seen.map((e) => e.kind)).toStrictEqual(['STARTED', 'PAUSED', 'STOPPED', 'STARTED']);
    expect((await driver.listInstances()).map((i) => i.uuid)).toContain(s.uuid);
    expect((await driver.getInventory()).nodes[0]!.resources['VCPU']!.used).toBeGreaterThan(0);
    await driver.destroy(s.uuid);
    await driver.destroy(s.uuid);
    expect(await error(driver.getInfo(s.uuid))).toMatchObject({ code: 'INSTANCE_NOT_FOUND' });
    unsubscribe();
  });

  it('answers errors with their contract codes and fields', async () => {
    const s = spec();
    await driver.spawn(s);
    expect(await error(driver.spawn(s))).toMatchObject({ code: 'INSTANCE_EXISTS', op: 'spawn' });
    expect(await error(driver.spawn(spec({ node: 'elsewhere' })))).toMatchObject({ code: 'NODE_NOT_FOUND' });
    expect(await error(driver.spawn(spec({ flavor: { id: 'huge', name: 'huge', vcpus: 1000, memoryMb: 1, rootGb: 1 } })))).toMatchObject({ code: 'INSUFFICIENT_RESOURCES' });
    expect(await error(lenient.suspend(s.uuid))).toMatchObject({ code: 'UNSUPPORTED', capability: 'operation.suspend' });
    expect(await error(driver.suspend(s.uuid))).toMatchObject({ code: 'UNSUPPORTED', capability: 'operation.suspend' });
    // Past the client's guard (raw remote driver), the Python server's own validation answers.
    expect(await error((driver.raw as { getInfo(u: string): Promise<unknown> }).getInfo('not-a-uuid'))).toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: ['uuid'], message: 'must be a UUID' }] });
  });

  it('a 1.0 server: the 1.1 capabilities read as missing, and RestoreState and ListSnapshots answer UNSUPPORTED naming them', async () => {
    const caps = await driver.getCapabilities();
    for (const id of ['operation.restore-state', 'operation.list-snapshots', 'event.out-of-band'] as const) expect(caps.capabilities[id], id).toStrictEqual({ level: 'missing' });
    const s = spec();
    await driver.spawn(s);
    for (const d of [driver, lenient]) {
      expect(await error(d.restoreState(s.uuid, 'SHUTDOWN'))).toMatchObject({ code: 'UNSUPPORTED', capability: 'operation.restore-state', op: 'restoreState' });
      expect(await error(d.listSnapshots())).toMatchObject({ code: 'UNSUPPORTED', capability: 'operation.list-snapshots', op: 'listSnapshots' });
    }
    expect((await driver.getInfo(s.uuid)).powerState).toBe('RUNNING');
    // Its events carry neither cause nor a number of their own; the client's guard numbers them.
    const seen: LifecycleEvent[] = [];
    const unsubscribe = driver.subscribeEvents((e) => seen.push(e));
    await driver.powerOff(s.uuid);
    await driver.powerOn(s.uuid);
    unsubscribe();
    expect(seen.map((e) => [e.kind, e.cause, e.seq])).toStrictEqual([
      ['STOPPED', undefined, 1],
      ['STARTED', undefined, 2],
    ]);
  });

  it('reads one state the same way twice (deterministic map order)', async () => {
    const s = spec({ metadata: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`key-${(i * 7) % 12}`, String(i)])) });
    await driver.spawn(s);
    const reads = await Promise.all(Array.from({ length: 5 }, () => driver.getInfo(s.uuid)));
    expect(new Set(reads.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(Object.keys(reads[0]!.metadata)).toStrictEqual(Object.keys(reads[0]!.metadata).sort());
    const inventories = await Promise.all(Array.from({ length: 5 }, () => driver.getInventory()));
    expect(new Set(inventories.map((r) => JSON.stringify(r))).size).toBe(1);
  });

  it('acts once per request id', async () => {
    const wire = new WireClient(`unix://${socket}`);
    try {
      const s = spec();
      const requestId = randomUUID();
      const first = await wire.call('spawn', { requestId, spec: instanceSpecToProto(s) });
      const again = await wire.call('spawn', { requestId, spec: instanceSpecToProto(s) });
      expect([first.ok, again.ok]).toStrictEqual([true, true]);
      const reused = await wire.call('spawn', { requestId, spec: instanceSpecToProto(spec()) });
      expect(!reused.ok && reused.error?.code).toBe('INVALID_INPUT');
      expect((await driver.getConsoleOutput(s.uuid)).output.split('\n')).toHaveLength(1);
    } finally {
      wire.close();
    }
  });
});
