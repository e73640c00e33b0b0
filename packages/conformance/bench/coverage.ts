// Coverage of the semantics table by the default run on the reference driver: model steps per
// second, cells reached of those reachable, and what steering added. Part of `pnpm bench`
// (bench/run.ts); also runs on its own: tsx --tsconfig bench/tsconfig.json bench/coverage.ts
import type { ComputeDriver } from '@nova-common/core';
import { createReferenceDriver, type ReferenceDriver } from '@nova-common/core/testing';
import { runConformance, type RunOptions } from '../src/index.js';

/** The default run on the reference driver must stay under this, wall time (docs: the default run takes seconds). */
const GOAL_MS = 10_000;

const simulate = {
  crash: (d: ComputeDriver, uuid: string) => (d as ReferenceDriver).simulateCrash(uuid),
  noState: (d: ComputeDriver, uuid: string) => (d as ReferenceDriver).simulateNoState(uuid),
};

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export async function coverageBench(seeds: readonly number[] = [1, 2, 3]): Promise<void> {
  console.log('semantics-table coverage of the default run (20 sequences x <=25 commands after the table walk) on the reference driver');
  console.log(
    `  ${'run'.padEnd(44)} ${'seed'.padStart(5)} ${'wall'.padStart(8)} ${'steps'.padStart(6)} ${'steps/s'.padStart(8)} ${'cells'.padStart(9)} ${'steered'.padStart(8)} ${'error paths'.padStart(11)}`,
  );
  const rows: [string, Partial<RunOptions>][] = [
    ['default, with the crash and lost-state hooks', { simulate }],
    ['default, without hooks', {}],
    ['sequences only (no walk), steering to the end', { simulate, walk: false, budget: '60s' }],
  ];
  let worst = 0;
  for (const [label, extra] of rows) {
    for (const seed of seeds) {
      const t0 = performance.now();
      const r = await runConformance({ driver: () => createReferenceDriver(), seed, name: 'reference', ...extra });
      const ms = performance.now() - t0;
      if (r.summary.failed > 0) throw new Error(`the reference driver failed with seed ${seed}: ${r.properties.filter((p) => p.status === 'failed').map((p) => p.id).join(', ')}`);
      if (extra.walk === undefined) worst = Math.max(worst, ms);
      const c = r.coverage!;
      const paths = Object.values(c.errorPaths).reduce((n, codes) => n + Object.keys(codes).length, 0);
      const steps = r.stats!.steps;
      console.log(
        `  ${label.padEnd(44)} ${String(seed).padStart(5)} ${`${fmt(ms / 1000, 2)} s`.padStart(8)} ${fmt(steps).padStart(6)} ${fmt(steps / (r.stats!.modelMs / 1000)).padStart(8)} ${`${c.cellsReached}/${c.cellsReachable}`.padStart(9)} ${fmt(c.steeredRuns).padStart(8)} ${fmt(paths).padStart(11)}` +
          (c.missing.length > 0 ? `  missing ${c.missing.map((m) => `${m.state}/${m.column}`).join(' ')}` : ''),
      );
    }
  }
  console.log(`  slowest default run: ${fmt(worst / 1000, 2)} s wall | goal < ${GOAL_MS / 1000} s (${worst < GOAL_MS ? 'met' : 'NOT met'})`);
  console.log('');
}

if (import.meta.url === `file://${process.argv[1]}`) await coverageBench();
