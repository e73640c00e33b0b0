import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, outsideDir, run } from './helpers/outside.js';

// scripts/ci/downstream.sh: packs the current packages, installs every registered out-of-tree
// driver outside the workspace with them, runs its tests and the suite, prints the table.

const work = outsideDir('create-driver-downstream-');
afterAll(() => work.remove());

const list = JSON.parse(readFileSync(join(REPO, 'scripts/ci/downstream.json'), 'utf8')) as { drivers: { name: string; kind: string; path?: string }[] };

/** The table's rows by driver name, each a map of column to value. */
function rows(table: string): Map<string, Record<string, string>> {
  const lines = table.trim().split('\n');
  const split = (line: string): string[] => line.slice(1, -1).split(' | ').map((c) => c.trim());
  const header = split(lines[0]!);
  return new Map(
    lines.slice(2).map((line) => {
      const cells = split(line);
      return [cells[0]!, Object.fromEntries(header.map((h, i) => [h, cells[i]!]))];
    }),
  );
}

describe('downstream.sh', () => {
  it('lists the scaffold and every example driver in examples/', () => {
    expect(list.drivers.map((d) => d.kind)).toContain('scaffold');
    expect(list.drivers.filter((d) => d.path?.startsWith('examples/')).map((d) => d.path)).toEqual(['examples/python-driver']);
    for (const d of list.drivers) if (d.path !== undefined) expect(existsSync(join(REPO, d.path)), d.path).toBe(true);
  });

  it('refuses a work directory inside the workspace', () => {
    const r = run('bash', [join(REPO, 'scripts/ci/downstream.sh'), '--work', join(REPO, 'packages/create-driver/.downstream')], REPO);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('must be outside the workspace');
    expect(existsSync(join(REPO, 'packages/create-driver/.downstream'))).toBe(false);
  });

  it('checks every registered driver against the packed packages and prints the compatibility table', () => {
    const r = run('bash', [join(REPO, 'scripts/ci/downstream.sh'), '--work', work.dir, '--seed', '7'], REPO, 2_400_000);
    process.stdout.write(`downstream.sh: ${Math.round(r.seconds)} s\n${r.stdout}`);
    expect(r.code, `${r.stdout}\n${r.stderr.slice(-6000)}`).toBe(0);
    const table = rows(r.stdout);
    expect([...table.keys()]).toEqual(list.drivers.map((d) => d.name));
    expect(readFileSync(join(work.dir, 'compatibility.md'), 'utf8')).toBe(r.stdout);

    const scaffold = table.get('scaffold')!;
    expect(scaffold).toMatchObject({ kind: 'scaffold', tests: 'pass', conformance: 'pass', 'table cells reached': '9/9', 'supported capabilities': '4/4 complete' });
    expect(scaffold['properties']).toMatch(/^\d+ passed, 0 failed, \d+ skipped$/);

    const python = table.get('python-driver')!;
    expect(python).toMatchObject({ kind: 'wire', tests: '-', conformance: 'pass' });
    expect(python['properties']).toMatch(/^\d+ passed, 0 failed, \d+ skipped$/);
    expect(python['table cells reached']).toMatch(/^(\d+)\/\1$/);
    expect(Number(/^\d+/.exec(python['supported capabilities']!)![0])).toBeGreaterThan(4);

    // The installs happened outside the workspace, from the tarballs it packed.
    const tarballs = JSON.parse(readFileSync(join(work.dir, 'tarballs.json'), 'utf8')) as Record<string, string>;
    expect(Object.keys(tarballs).sort()).toEqual(['@nova-common/agent', '@nova-common/conformance', '@nova-common/core', '@nova-common/create-driver']);
    for (const path of Object.values(tarballs)) expect(path.startsWith(`${work.dir}/`)).toBe(true);
  }, 2_400_000);
});
