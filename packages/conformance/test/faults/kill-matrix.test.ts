import { DriverError, OPERATION_NAMES, type ComputeDriver } from '@nova-common/core';
import { createReferenceBackend } from '@nova-common/core/testing';
import { describe, expect, it } from 'vitest';
import { renderKillMatrix } from '../../src/faults/kill-matrix/render.js';
import { runKillMatrix, type KillMatrixOptions } from '../../src/faults/kill-matrix/run.js';

const CALL_MS = 20;

/**
 * The reference backend behind a daemon that can be killed: every operation takes CALL_MS and
 * takes effect at its end only when the daemon still runs; a call made or running while it is
 * down answers BACKEND_UNAVAILABLE. `forgetsInterruptedDestroys` plants the leak the matrix is
 * for: a destroy cut by the kill makes the driver forget the instance while the backend keeps it.
 */
function killableBackend(forgetsInterruptedDestroys = false) {
  const backend = createReferenceBackend({ nodes: 1 });
  let up = true;
  let epoch = 0;
  const forgotten = new Set<string>();
  const unavailable = (op: string) => new DriverError('BACKEND_UNAVAILABLE', { op, detail: 'the daemon is down' });
  const createDriver = (): ComputeDriver => {
    const inner = backend.createDriver() as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const driver: Record<string, unknown> = { subscribeEvents: (inner as unknown as ComputeDriver).subscribeEvents };
    for (const name of OPERATION_NAMES) {
      driver[name] = async (...args: unknown[]) => {
        if (!up) throw unavailable(name);
        const started = epoch;
        await new Promise((r) => setTimeout(r, CALL_MS));
        if (!up || epoch !== started) {
          if (forgetsInterruptedDestroys && name === 'destroy') forgotten.add(args[0] as string);
          throw unavailable(name);
        }
        if (name === 'listInstances') return ((await inner[name]!(...args)) as { uuid: string }[]).filter((i) => !forgotten.has(i.uuid));
        if (forgotten.has(args[0] as string) && name !== 'spawn') throw new DriverError('INSTANCE_NOT_FOUND', { op: name, target: args[0] as string });
        return inner[name]!(...args);
      };
    }
    return driver as unknown as ComputeDriver;
  };
  const options: KillMatrixOptions = {
    backend: 'reference behind a killable daemon',
    createDriver,
    killBackend: async () => {
      up = false;
      epoch++;
    },
    startBackend: async () => {
      up = true;
    },
    witness: backend.witness,
    spec: (uuid) => ({ uuid, name: 'km', flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 0 }, image: { id: 'img', diskFormat: 'raw', containerFormat: 'bare' } }),
    volume: () => ({ volumeId: crypto.randomUUID(), connectionInfo: { driverVolumeType: 'file', path: '/tmp/km-volume' } }),
    operations: ['spawn', 'destroy', 'powerOff', 'powerOn', 'reboot', 'attachVolume', 'detachVolume'],
    killAt: [0, 0.5],
    convergeWithinMs: 5_000,
  };
  return options;
}

describe('the kill matrix', () => {
  it('holds on a driver whose interrupted calls answer BACKEND_UNAVAILABLE and whose retries converge', async () => {
    const cells = await runKillMatrix(killableBackend());
    expect(cells).toHaveLength(14);
    for (const c of cells) expect(c.failure, `${c.operation} at ${c.killAt}`).toBeUndefined();
    // Killed at the call's start, every call was cut: each answered the retryable error and needed a retry.
    for (const c of cells.filter((x) => x.killAt === 0)) {
      expect(c.answered).toBe('BACKEND_UNAVAILABLE');
      expect(c.retryable).toBe(true);
    }
    expect(cells.find((c) => c.operation === 'spawn' && c.killAt === 0)!.retries).toBe(1);
    const table = renderKillMatrix('reference', cells);
    expect(table).toContain('| spawn | ');
    expect(table).toContain('| detachVolume | ');
    expect(table).not.toContain('FAILS');
  });

  it('fails the cell where an interrupted destroy makes the driver forget an instance the backend keeps', async () => {
    const options = killableBackend(true);
    const cells = await runKillMatrix({ ...options, operations: ['destroy'] });
    const cut = cells.find((c) => c.killAt === 0)!;
    expect(cut.failure).toContain('driver and backend disagree');
    expect(cut.failure).toContain('left on the backend after sweep');
    expect(cut.leaks).toBe(1);
    expect(renderKillMatrix('leaky', cells)).toContain('FAILS: ');
  });
});
