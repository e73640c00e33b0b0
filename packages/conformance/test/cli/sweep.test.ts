import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { InstanceSpecInput } from '@nova-common/core';
import { RUN_ID_KEY } from '../../src/config.js';
import { shared } from './fixtures/shared-driver.js';
import { runCli } from './run-main.js';

// The reference driver keeps its state in memory, so a sweep in another process would see
// nothing: the test spawns into a driver shared inside this process, then runs `sweep` in-process.
const driverPath = fileURLToPath(new URL('./fixtures/shared-driver.ts', import.meta.url));

function spec(n: number, runId: string | undefined): InstanceSpecInput {
  return {
    uuid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    name: `${runId ?? 'keep'}-vm-${n}`,
    flavor: { id: 'f-tiny', name: 'm1.tiny', vcpus: 1, memoryMb: 512, rootGb: 1 },
    image: { id: 'img-1', name: 'cirros', diskFormat: 'qcow2', containerFormat: 'bare', minDiskGb: 0, minRamMb: 0 },
    metadata: runId === undefined ? { owner: 'someone-else' } : { [RUN_ID_KEY]: runId },
    powerOn: true,
    networkInfo: [],
    blockDeviceInfo: { ephemerals: [], volumes: [] },
  };
}

describe('sweep', () => {
  it('destroys the instances and snapshots of the run id, and nothing else', async () => {
    await shared.initHost();
    const parse = (await import('@nova-common/core')).InstanceSpecSchema.parse;
    await shared.spawn(parse(spec(1, 'nc-crashed-1')));
    await shared.spawn(parse(spec(2, 'nc-crashed-1')));
    await shared.spawn(parse(spec(3, 'nc-other-run')));
    await shared.spawn(parse(spec(4, undefined)));
    const snap = await shared.snapshot(spec(1, 'x').uuid, { name: 'nc-crashed-1-snap' });
    const keptSnap = await shared.snapshot(spec(3, 'x').uuid, { name: 'nc-other-run-snap' });

    const r = await runCli(['sweep', '--driver', driverPath, '--run-id', 'nc-crashed-1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`destroyed instance ${spec(1, 'x').uuid}`);
    expect(r.stdout).toContain(`destroyed instance ${spec(2, 'x').uuid}`);
    expect(r.stdout).toContain(`deleted snapshot ${snap.imageId}`);
    expect(r.stdout).toMatch(/swept run nc-crashed-1: 2 instances destroyed, 1 snapshots deleted, 0 failures/);

    await shared.initHost();
    const left = (await shared.listInstances()).map((i) => i.uuid).sort();
    expect(left).toEqual([spec(3, 'x').uuid, spec(4, 'x').uuid]);
    expect((await shared.listSnapshots()).map((s) => s.imageId)).toEqual([keptSnap.imageId]);

    const again = await runCli(['sweep', '--driver', driverPath, '--run-id', 'nc-crashed-1']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/0 instances destroyed, 0 snapshots deleted, 0 failures/);
  });
});
