import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseJsonReport } from '../../src/report/json.js';
import { tempDir } from './run-main.js';

const pkg = fileURLToPath(new URL('../..', import.meta.url));
const slow = fileURLToPath(new URL('./fixtures/slow-driver.ts', import.meta.url));

interface Child {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  spawned: string[];
}

/** Run the CLI in a child process and send it SIGINT once the driver has spawned an instance. */
function runAndInterrupt(argv: string[]): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx/esm', join(pkg, 'src/cli/main.ts'), ...argv], {
      cwd: pkg,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(pkg, 'bench/tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const spawned: string[] = [];
    const killer = setTimeout(() => child.kill('SIGKILL'), 100_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      for (const m of d.toString().matchAll(/slow-driver: spawned (\S+)/g)) spawned.push(m[1]!);
      if (!sent && spawned.length > 0) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, spawned });
    });
  });
}

describe('Ctrl-C during run', () => {
  it('stops the run, sweeps what it made, writes the report of what finished and exits 130', async () => {
    const cwd = tempDir();
    const r = await runAndInterrupt(['run', '--driver', slow, '--run-id', 'nc-sigint-1', '--seed', '3', '--runs', '200', '--json', join(cwd, 'r.json')]);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('interrupted: stopping the run');
    // Every instance the run spawned and had not destroyed is removed by the sweep of its run id.
    const destroyed = [...r.stdout.matchAll(/^destroyed instance (\S+)$/gm)].map((m) => m[1]!);
    expect(destroyed.length).toBeGreaterThan(0);
    for (const uuid of destroyed) expect(r.spawned.map((u) => u.toLowerCase())).toContain(uuid.toLowerCase());
    expect(r.stdout).toMatch(new RegExp(`^swept run nc-sigint-1: ${destroyed.length} instances destroyed, \\d+ snapshots deleted, 0 failures$`, 'm'));
    // Nothing left, so no sweep command to run.
    expect(r.stderr).not.toContain('still listed');
    expect(r.stderr).not.toContain('nova-conformance sweep');

    expect(existsSync(join(cwd, 'r.json'))).toBe(true);
    const report = parseJsonReport(readFileSync(join(cwd, 'r.json'), 'utf8'));
    expect(report.runId).toBe('nc-sigint-1');
    expect(report.seed).toBe(3);
    expect(report.properties.length).toBeGreaterThan(0);
    const unfinished = report.properties.filter((p) => p.reason === 'interrupted (SIGINT) before it finished');
    expect(unfinished.length).toBeGreaterThan(0);
    expect(unfinished.every((p) => p.status === 'skipped')).toBe(true);
    expect(report.capabilities.some((c) => c.status === 'complete')).toBe(false);
    expect(r.stdout).toContain(`json report: ${join(cwd, 'r.json')}`);
  }, 120_000);
});
