import { expect } from 'vitest';
import { remoteError, TransportFailure } from '../../src/client/unary-call.js';
import type { ServedPackage } from './real-backends.js';
import { WireClient, type WireResult } from './wire-client.js';

/** What the agent-killed tests share: the kill, the restart, the error a cut call maps to. */

/** SIGKILL the served agent (no shutdown: what a crash or a lost host does) and wait for it to die. */
export async function killAgent(served: ServedPackage): Promise<void> {
  served.running.child.kill('SIGKILL');
  await served.running.exited;
}

/** Start the agent again on the same socket, state directory and configuration; a new client for it. */
export async function restartAgent(served: ServedPackage, wire: WireClient): Promise<WireClient> {
  await served.restart();
  wire.close();
  return new WireClient(served.endpoint);
}

/** The typed error the remote driver makes of a call the agent's death cut short. */
export function typedError(r: WireResult<'spawn'> | WireResult<'destroy'>, op: string) {
  expect(r.ok).toBe(false);
  if (r.ok) throw new Error('unreachable');
  const mapped = remoteError(r.cause, op);
  expect(mapped).toBeInstanceOf(TransportFailure);
  const error = (mapped as TransportFailure).error;
  return { grpc: r.grpcCode, detail: r.error, code: error.code, retryable: error.retryable };
}

/** Poll `check` every 100 ms until it holds; fails after `ms`. */
export async function until(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not reached in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
