import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONTRACT_RANGE, DEFAULT_CI_SOURCE, DEPENDENCY_RANGES, DEV_DEPENDENCY_RANGES, ScaffoldError, scaffold } from '../src/index.js';
import { main } from '../src/main.js';
import { REPO, outsideDir } from './helpers/outside.js';

const tmp = outsideDir('create-driver-unit-');
afterAll(() => tmp.remove());

const EXPECTED_FILES = [
  '.github/workflows/ci.yml',
  '.gitignore',
  'README.md',
  'conformance.json',
  'package.json',
  'src/backend.ts',
  'src/driver.ts',
  'src/index.ts',
  'src/manifest.ts',
  'test/conformance.test.ts',
  'test/manifest.test.ts',
  'tsconfig.json',
  'tsup.config.ts',
  'vitest.config.ts',
];

async function refusal(p: Promise<unknown>): Promise<ScaffoldError> {
  const outcome = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(ScaffoldError);
  return outcome as ScaffoldError;
}

function read(dir: string, path: string): string {
  return readFileSync(join(dir, path), 'utf8');
}

describe('scaffold', () => {
  it('writes a driver package with the given name into a new directory', async () => {
    const result = await scaffold({ dir: 'driver-one', cwd: tmp.dir, name: '@acme/driver-one', description: 'Machines "quoted" \\ here.' });
    const dir = join(tmp.dir, 'driver-one');
    expect(result).toEqual({ dir, name: '@acme/driver-one', files: EXPECTED_FILES });
    const pkg = JSON.parse(read(dir, 'package.json')) as Record<string, any>;
    expect(pkg.name).toBe('@acme/driver-one');
    expect(pkg.description).toBe('Machines "quoted" \\ here.');
    expect(pkg.type).toBe('module');
    expect(pkg['nova-common']).toEqual({ driver: true, contract: CONTRACT_RANGE });
    expect(pkg.dependencies).toEqual(DEPENDENCY_RANGES);
    expect(pkg.devDependencies).toEqual(DEV_DEPENDENCY_RANGES);
    expect(Object.keys(pkg.scripts)).toEqual(['build', 'test', 'typecheck', 'conformance']);
    // Names reach the sources as string literals, the description escaped as JSON.
    const manifest = read(dir, 'src/manifest.ts');
    expect(manifest).toContain('name: "@acme/driver-one",');
    expect(manifest).toContain('description: "Machines \\"quoted\\" \\\\ here.",');
    expect(manifest).toContain("contract: '^1.2.0'");
    expect(read(dir, 'README.md')).toMatch(/^# @acme\/driver-one\n\nMachines "quoted" \\ here\.\n/);
    for (const file of EXPECTED_FILES) expect(read(dir, file), file).not.toMatch(/@@[A-Z_]+@@/);
  });

  it('the CI workflow calls the reusable workflow with inputs it declares', async () => {
    await scaffold({ dir: join(tmp.dir, 'driver-ci'), ciSource: 'acme/nova-common@v1.1.0' });
    const ci = parse(read(join(tmp.dir, 'driver-ci'), '.github/workflows/ci.yml')) as { jobs: Record<string, { uses?: string; with?: Record<string, string> }> };
    const job = ci.jobs['conformance']!;
    expect(job.uses).toBe('acme/nova-common/.github/workflows/driver-conformance.yml@v1.1.0');
    expect(job.with).toEqual({ 'nova-common-repository': 'acme/nova-common', 'nova-common-ref': 'v1.1.0', config: 'conformance.json' });
    const reusable = parse(read(REPO, '.github/workflows/driver-conformance.yml')) as { on: { workflow_call: { inputs: Record<string, unknown> } } };
    for (const input of Object.keys(job.with!)) expect(reusable.on.workflow_call.inputs, input).toHaveProperty(input);
    expect(existsSync(join(tmp.dir, 'driver-ci', 'conformance.json'))).toBe(true);
  });

  it('takes the name from the directory when none is given, and the default CI source', async () => {
    const result = await scaffold({ dir: join(tmp.dir, 'nova-driver-two') });
    expect(result.name).toBe('nova-driver-two');
    const [repository, ref] = DEFAULT_CI_SOURCE.split('@');
    expect(read(result.dir, '.github/workflows/ci.yml')).toContain(`uses: ${repository}/.github/workflows/driver-conformance.yml@${ref}`);
  });

  it('refuses a directory whose name is no package name, naming the field, and writes nothing', async () => {
    const e = await refusal(scaffold({ dir: join(tmp.dir, 'Not A Name') }));
    expect(e).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
    expect(existsSync(join(tmp.dir, 'Not A Name'))).toBe(false);
  });

  it('refuses a bad name, description or CI source before writing anything', async () => {
    for (const [options, field] of [
      [{ name: '$(touch x)' }, 'name'],
      [{ name: 'ok-name', description: 'a\nb' }, 'description'],
      [{ name: 'ok-name', ciSource: 'x' }, 'ciSource'],
    ] as const) {
      const dir = join(tmp.dir, `refused-${field}`);
      const e = await refusal(scaffold({ dir, ...options }));
      expect(e.field).toBe(field);
      expect(existsSync(dir)).toBe(false);
    }
  });

  it('refuses a directory that is not empty (TARGET_NOT_EMPTY) and leaves it alone', async () => {
    const dir = join(tmp.dir, 'taken');
    mkdirSync(dir);
    writeFileSync(join(dir, 'keep.txt'), 'mine');
    const e = await refusal(scaffold({ dir, name: 'taken' }));
    expect(e).toMatchObject({ code: 'TARGET_NOT_EMPTY', field: 'dir' });
    expect(readdirSync(dir)).toEqual(['keep.txt']);
  });

  it('writes into an existing empty directory', async () => {
    const dir = join(tmp.dir, 'empty');
    mkdirSync(dir);
    expect((await scaffold({ dir })).files).toEqual(EXPECTED_FILES);
  });
});

describe('the command line', () => {
  function io(): { out: string[]; err: string[]; streams: [{ write(s: string): boolean }, { write(s: string): boolean }] } {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, streams: [{ write: (s) => out.push(s) > 0 }, { write: (s) => err.push(s) > 0 }] };
  }

  it('--help prints the usage and exits 0', async () => {
    const { out, streams } = io();
    expect(await main(['--help'], ...streams)).toBe(0);
    expect(out.join('')).toMatch(/^Usage: create-driver <dir>/);
  });

  it('writes the package and says what to do next', async () => {
    const { out, streams } = io();
    const dir = join(tmp.dir, 'from-cli');
    expect(await main([dir, '--name', '@acme/from-cli'], ...streams)).toBe(0);
    expect(out.join('')).toContain(`Wrote @acme/from-cli into ${dir} (14 files).`);
    expect(JSON.parse(read(dir, 'package.json')).name).toBe('@acme/from-cli');
  });

  it.each([
    [[], 'USAGE: dir: give the directory to create'],
    [['a', 'b'], 'USAGE: dir: one directory, got 2'],
    [['x', '--name', 'Bad Name'], 'INVALID_ARGUMENT: name: "Bad Name" is not a valid npm package name'],
    [['x', '--color'], "Unknown option '--color'"],
  ])('%j exits 2: %s', async (argv, message) => {
    const { err, streams } = io();
    const cwd = process.cwd();
    process.chdir(tmp.dir);
    try {
      expect(await main(argv, ...streams)).toBe(2);
    } finally {
      process.chdir(cwd);
    }
    expect(err.join('')).toContain(message);
    expect(existsSync(join(tmp.dir, 'x'))).toBe(false);
  });
});
