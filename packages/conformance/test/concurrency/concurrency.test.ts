import { describe, expect, it } from 'vitest';
import { createReferenceDriver, type ReferenceDriverConfig } from '@nova-common/core/testing';
import { runConformance, type RunResult } from '../../src/index.js';
import { mutant as spawnsBothSucceed } from '../mutants/concurrent-spawns-both-succeed.js';
import { mutant as powerOffHitsSibling } from '../mutants/concurrent-power-off-hits-sibling.js';

const ONLY = ['P-CONCURRENT-INSTANCES', 'P-CONCURRENT-CALLS'];

function failures(r: RunResult): string {
  return r.properties
    .filter((p) => p.status === 'failed')
    .map((p) => `${p.id}: ${p.counterexample?.message}\n${p.counterexample?.steps.map((s) => `  ${s.op} ${JSON.stringify(s.expected)} ${JSON.stringify(s.actual)}`).join('\n')}`)
    .join('\n');
}

describe('the concurrency properties on the reference driver', () => {
  const configs: [string, ReferenceDriverConfig][] = [
    ['default', {}],
    ['3 nodes, 15 ms cleaning after destroy', { nodes: 3, releaseDelayMs: 15 }],
    ['tight capacity: 4 vCPUs, 1 GiB', { capacity: { vcpus: 4, memoryMb: 1024, diskGb: 4, cpuAllocationRatio: 1, ramAllocationRatio: 1 } }],
    ['pause, suspend and volumes declared missing', { disabledCapabilities: ['operation.pause', 'operation.unpause', 'operation.suspend', 'operation.resume', 'operation.attach-volume', 'operation.detach-volume'] }],
  ];
  for (const [label, config] of configs) {
    for (const seed of [3, 9001]) {
      it(`pass: ${label} (seed ${seed})`, async () => {
        const r = await runConformance({ driver: () => createReferenceDriver(config), seed, only: ONLY });
        expect(r.summary.failed, failures(r)).toBe(0);
        for (const id of ONLY) {
          const p = r.properties.find((x) => x.id === id)!;
          expect(p.status).toBe('passed');
          // The fixed cases and at least one drawn from the seed ran, and called the driver.
          expect(p.runs).toBeGreaterThanOrEqual(3);
          expect(p.steps).toBeGreaterThan(p.runs * 2);
          expect(p.capabilities).toEqual(expect.arrayContaining(['operation.launch', 'operation.terminate']));
        }
      });
    }
  }

  it('are part of the default run and exercise the volume operations when the driver declares them', async () => {
    const r = await runConformance({ driver: () => createReferenceDriver(), seed: 11, runs: 2, steps: 5, walk: false });
    const calls = r.properties.find((x) => x.id === 'P-CONCURRENT-CALLS')!;
    expect(calls.status).toBe('passed');
    expect(calls.capabilities).toEqual(expect.arrayContaining(['operation.attach-volume', 'operation.detach-volume']));
    expect(r.properties.find((x) => x.id === 'P-CONCURRENT-INSTANCES')!.status).toBe('passed');
  });
});

describe('the concurrency properties find drivers that are not linearizable', () => {
  it('two spawns of one uuid that both succeed: no order explains it, and the program races them', async () => {
    const r = await runConformance({ driver: spawnsBothSucceed.create, seed: 5, only: ONLY });
    const p = r.properties.find((x) => x.id === 'P-CONCURRENT-CALLS')!;
    expect(p.status).toBe('failed');
    const cx = p.counterexample!;
    expect(cx.rule).toBe('R-SPAWN-RUNNING');
    expect(cx.message).toMatch(/no order of the concurrent calls explains/);
    expect(cx.steps.map((s) => s.op)).toEqual(['spawn [lane 1 of 2, concurrent]', 'spawn [lane 2 of 2, concurrent]']);
    expect(cx.steps.map((s) => s.actual?.ok)).toEqual([true, true]);
    expect(cx.program).toContain('await Promise.all([');
    expect(cx.program.match(/driver\.spawn\(/g)?.length).toBe(2);
    expect(cx.program).toContain('INSTANCE_EXISTS');
    // One call at a time nothing shows: the sibling property passes.
    expect(r.properties.find((x) => x.id === 'P-CONCURRENT-INSTANCES')!.status).toBe('passed');
  });

  it('a power-off that stops a sibling: the end state is none of the orders, shrunk to the two spawns and the race', async () => {
    const r = await runConformance({ driver: powerOffHitsSibling.create, seed: 5, only: ONLY });
    const p = r.properties.find((x) => x.id === 'P-CONCURRENT-INSTANCES')!;
    expect(p.status).toBe('failed');
    const cx = p.counterexample!;
    expect(cx.rule).toBe('R-INFO-FRESH');
    expect(cx.message).toMatch(/the state left is none of theirs/);
    expect(cx.steps.length).toBeLessThanOrEqual(4);
    expect(cx.steps.filter((s) => s.op.startsWith('powerOff [lane')).length).toBeGreaterThanOrEqual(1);
  });
});
