import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ComputeDriver } from '@nova-common/core';
import { runConformance } from '../../src/index.js';

/**
 * Run a concurrency counterexample program beside a `driver-manifest.ts` of the given source.
 * After the program's own cleanup, the instances still listed are printed (`left: [...]`).
 */
function runProgram(program: string, manifestSource: string): { status: number | null; stdout: string; stderr: string; left: string[] } {
  const dir = mkdtempSync(join(fileURLToPath(new URL('.', import.meta.url)), '.tmp-'));
  try {
    writeFileSync(
      join(dir, 'driver-manifest.ts'),
      [
        manifestSource,
        `export const manifest = {`,
        `  configSchema: { parse: (c: unknown) => c },`,
        `  create() {`,
        `    const raw = make() as unknown as Record<string, unknown> & { listInstances(): Promise<{ uuid: string }[]> };`,
        `    const cleanupHost = raw.cleanupHost as () => Promise<void>;`,
        `    raw.cleanupHost = async () => {`,
        `      const left = (await raw.listInstances()).map((s) => s.uuid);`,
        `      await cleanupHost.call(raw);`,
        `      process.on('exit', () => console.log('left: ' + JSON.stringify(left)));`,
        `    };`,
        `    return raw;`,
        `  },`,
        `};`,
      ].join('\n'),
    );
    writeFileSync(join(dir, 'counterexample.ts'), program);
    const pkg = fileURLToPath(new URL('../..', import.meta.url));
    const run = spawnSync(process.execPath, ['--import', 'tsx/esm', join(dir, 'counterexample.ts')], {
      cwd: pkg,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(pkg, 'bench/tsconfig.json') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const m = /^left: (.*)$/m.exec(run.stdout);
    return { status: run.status, stdout: run.stdout, stderr: run.stderr, left: m ? (JSON.parse(m[1]!) as string[]) : ['<cleanupHost never ran>'] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('a concurrency counterexample is a runnable program', () => {
  it.each([
    { mutant: 'concurrent-spawns-both-succeed', property: 'P-CONCURRENT-CALLS' },
    { mutant: 'concurrent-power-off-hits-sibling', property: 'P-CONCURRENT-INSTANCES' },
  ] as const)('that races the lanes, fails on $mutant and passes on the reference, leaving nothing', async ({ mutant, property }) => {
    const { mutant: m } = (await import(`../mutants/${mutant}.ts`)) as { mutant: { create: () => ComputeDriver } };
    const r = await runConformance({ driver: m.create, seed: 13, only: [property], module: './driver-manifest.ts' });
    const p = r.properties.find((x) => x.id === property)!;
    expect(p.status).toBe('failed');
    const program = p.counterexample!.program;
    expect(program).toContain('import { manifest } from "./driver-manifest.ts";');
    expect(program).toContain('await Promise.all([');

    const onMutant = runProgram(program, `import { mutant } from '../../mutants/${mutant}.ts';\nconst make = () => mutant.create();`);
    expect(onMutant.status, onMutant.stdout + onMutant.stderr).not.toBe(0);
    expect(onMutant.stderr).toMatch(/no order of the calls explains/);
    expect(onMutant.left, 'the program destroys what it spawned').toEqual([]);

    const onReference = runProgram(program, `import { createReferenceDriver } from '@nova-common/core/testing';\nconst make = () => createReferenceDriver();`);
    expect(onReference.status, onReference.stderr).toBe(0);
    expect(onReference.left).toEqual([]);
  }, 120_000);
});
