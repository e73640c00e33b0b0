import { mkdtempSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DriverError, ERROR_CODES, guard } from '@nova-common/core';
import { EngineClient } from '../src/client/engine-client.js';
import { EngineUnavailableError } from '../src/client/errors.js';
import { createContainerDriver } from '../src/driver/driver.js';

/** An engine socket that accepts every connection and reads what it is sent, but never answers. */
async function hungEngine(): Promise<{ socketPath: string; requests: () => number; close(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nova-hung-engine-'));
  const socketPath = path.join(dir, 'engine.sock');
  const sockets = new Set<Socket>();
  let requests = 0;
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('data', (chunk) => (requests += (chunk.toString('latin1').match(/ HTTP\/1\.1\r\n/g) ?? []).length));
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    requests: () => requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function rejection(p: Promise<unknown>): Promise<{ err: DriverError; ms: number }> {
  const started = performance.now();
  const err = await p.then(
    () => {
      throw new Error('the call succeeded against an engine that never answers');
    },
    (e: unknown) => e as DriverError,
  );
  return { err, ms: performance.now() - started };
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('an engine that accepts and never answers', () => {
  it('initHost rejects BACKEND_UNAVAILABLE (retryable) once requestTimeoutMs has passed, not minutes later', async () => {
    const engine = await hungEngine();
    const driver = guard(createContainerDriver({ socketPath: engine.socketPath, requestTimeoutMs: 500, stateDir: mkdtempSync(path.join(tmpdir(), 'nova-hung-state-')) }));
    cleanup.push(() => engine.close(), () => driver.cleanupHost());
    const { err, ms } = await rejection(driver.initHost());
    expect(engine.requests()).toBeGreaterThan(0);
    expect(err.code).toBe('BACKEND_UNAVAILABLE');
    expect(ERROR_CODES[err.code].retryable).toBe(true);
    expect(err.message).toMatch(/no answer within 500 ms/);
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(5_000);
  });

  it('with the default configuration, within about 10 s', async () => {
    const engine = await hungEngine();
    const driver = guard(createContainerDriver({ socketPath: engine.socketPath, stateDir: mkdtempSync(path.join(tmpdir(), 'nova-hung-state-')) }));
    cleanup.push(() => engine.close(), () => driver.cleanupHost());
    const { err, ms } = await rejection(driver.initHost());
    expect(err.code).toBe('BACKEND_UNAVAILABLE');
    expect(ms).toBeGreaterThanOrEqual(9_500);
    expect(ms).toBeLessThan(20_000);
  }, 60_000);

  it('a stop gets its grace period on top of the deadline, and no more', async () => {
    const engine = await hungEngine();
    const client = new EngineClient({ socketPath: engine.socketPath, apiVersion: '1.41', requestTimeoutMs: 300 });
    cleanup.push(() => engine.close(), () => client.close());
    const started = performance.now();
    const err = await client.stopContainer('x', 1).then(
      () => undefined,
      (e: unknown) => e,
    );
    const ms = performance.now() - started;
    expect(err).toBeInstanceOf(EngineUnavailableError);
    expect(ms).toBeGreaterThanOrEqual(1_250);
    expect(ms).toBeLessThan(6_000);
  });

  it('the calls that wait on the disk get longRequestTimeoutMs', async () => {
    const engine = await hungEngine();
    const client = new EngineClient({ socketPath: engine.socketPath, apiVersion: '1.41', requestTimeoutMs: 200, longRequestTimeoutMs: 1_500 });
    cleanup.push(() => engine.close(), () => client.close());
    const started = performance.now();
    await expect(client.removeContainer('x')).rejects.toBeInstanceOf(EngineUnavailableError);
    const ms = performance.now() - started;
    expect(ms).toBeGreaterThanOrEqual(1_400);
    expect(ms).toBeLessThan(6_000);
  });
});
