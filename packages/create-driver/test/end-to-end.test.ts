import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, ok, outsideDir, run, type Ran } from './helpers/outside.js';

// The scaffold as its users get it: core, conformance and create-driver packed from this
// workspace, create-driver run from its tarball in a directory outside the workspace, the
// generated driver installed there with npm (the packed packages, the rest from the
// registry), its tests and typecheck run, and the CI script run on it and on a broken copy.

const work = outsideDir('create-driver-e2e-');
const tarballsDir = join(work.dir, 'tarballs');
const driverDir = join(work.dir, 'driver-demo');
const brokenDir = join(work.dir, 'driver-broken');
const SCRIPT = join(REPO, 'scripts/ci/driver-conformance.sh');
/** Seconds each step took, printed at the end. */
const timings: Record<string, number> = {};
let tarballs: Record<string, string>;

function timed(step: string, r: Ran): Ran {
  timings[step] = Math.round(r.seconds);
  return r;
}

beforeAll(() => {
  tarballs = JSON.parse(
    timed('pack core, conformance, create-driver', ok('node', [join(REPO, 'scripts/ci/lib/pack.mjs'), tarballsDir, 'core', 'conformance', 'create-driver'], REPO)).stdout,
  ) as Record<string, string>;
  const tools = join(work.dir, 'tools');
  timed('install create-driver', ok('npm', ['install', '--prefix', tools, '--no-audit', '--no-fund', tarballs['@nova-common/create-driver']!], work.dir));
  timed('scaffold', ok(join(tools, 'node_modules/.bin/create-driver'), ['driver-demo', '--name', '@acme/driver-demo'], work.dir));
  // The generated ranges (^1.2.0) are not on the registry: point them at the tarballs.
  ok('node', [join(REPO, 'scripts/ci/lib/pin-tarballs.mjs'), driverDir, tarballs['@nova-common/core']!, tarballs['@nova-common/conformance']!], work.dir);
  timed('npm install', ok('npm', ['install', '--no-audit', '--no-fund'], driverDir));
}, 1_200_000);

afterAll(() => {
  process.stdout.write(`create-driver end to end, seconds per step: ${JSON.stringify(timings)}\n`);
  work.remove();
});

describe('a driver made by the packed create-driver, installed outside the workspace', () => {
  it('was written where asked, outside the workspace, with the packed packages installed', () => {
    expect(driverDir.startsWith(`${REPO}/`)).toBe(false);
    const pkg = JSON.parse(readFileSync(join(driverDir, 'package.json'), 'utf8')) as { name: string };
    expect(pkg.name).toBe('@acme/driver-demo');
    for (const name of ['core', 'conformance']) {
      const installed = JSON.parse(readFileSync(join(driverDir, 'node_modules/@nova-common', name, 'package.json'), 'utf8')) as { version: string };
      const packed = JSON.parse(readFileSync(join(REPO, 'packages', name, 'package.json'), 'utf8')) as { version: string };
      expect(installed.version, name).toBe(packed.version);
    }
    // One core: the suite's dependency on it is the driver's.
    expect(existsSync(join(driverDir, 'node_modules/@nova-common/conformance/node_modules/@nova-common/core'))).toBe(false);
  });

  it('passes its own tests out of the box (the conformance suite among them)', () => {
    const r = timed('npm test', run('npm', ['test'], driverDir));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/test\/conformance\.test\.ts \(\d+ tests\)/);
    expect(r.stdout).toMatch(/P-MODEL-SEQUENCES|Tests\s+\d+ passed/);
    expect(r.stdout).not.toMatch(/\d+ failed/);
  }, 900_000);

  it('typechecks', () => {
    const r = timed('npm run typecheck', run('npm', ['run', 'typecheck'], driverDir));
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }, 900_000);

  it('driver-conformance.sh builds it, runs the suite and writes the reports; exit 0', () => {
    const reports = join(work.dir, 'reports-ok');
    const r = timed('driver-conformance.sh', run('bash', [SCRIPT, '--driver-dir', driverDir, '--config', 'conformance.json', '--reports', reports, '--seed', '1'], work.dir));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const file of ['report.json', 'junit.xml', 'matrix.html', 'matrix.md', 'summary.txt']) expect(existsSync(join(reports, file)), file).toBe(true);
    const report = JSON.parse(readFileSync(join(reports, 'report.json'), 'utf8')) as { driver: { name: string }; seed: number; summary: { passed: number; failed: number } };
    expect(report.driver.name).toBe('@acme/driver-demo');
    expect(report.seed).toBe(1);
    expect(report.summary.failed).toBe(0);
    expect(report.summary.passed).toBeGreaterThan(20);
    expect(readFileSync(join(reports, 'junit.xml'), 'utf8')).toMatch(/<testsuites[^>]*failures="0"/);
    expect(readFileSync(join(reports, 'matrix.html'), 'utf8')).toContain('@acme/driver-demo');
  }, 900_000);

  it('on a copy that breaks the contract (spawn ignores powerOn) and lacks the suite, it installs the suite, writes the reports and exits 1', () => {
    // Its own build output stays behind (the script builds the copy); node_modules comes along.
    cpSync(driverDir, brokenDir, { recursive: true, filter: (src) => src !== join(driverDir, 'dist') });
    const file = join(brokenDir, 'src/driver.ts');
    const source = readFileSync(file, 'utf8');
    const broken = source.replace("running: cell.to === 'RUNNING',", 'running: true,');
    expect(broken).not.toBe(source);
    writeFileSync(file, broken);
    // A driver that does not depend on the suite: the script installs the one it is given, without saving it.
    const pkgFile = join(brokenDir, 'package.json');
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { devDependencies: Record<string, string>; overrides: Record<string, string> };
    delete pkg.devDependencies['@nova-common/conformance'];
    delete pkg.overrides['@nova-common/conformance'];
    writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
    rmSync(join(brokenDir, 'node_modules/@nova-common/conformance'), { recursive: true });
    const suite = tarballs['@nova-common/conformance']!;
    const reports = join(work.dir, 'reports-broken');
    const r = timed(
      'driver-conformance.sh (broken, installs the suite)',
      run('bash', [SCRIPT, '--driver-dir', brokenDir, '--config', 'conformance.json', '--reports', reports, '--seed', '1', '--suite', suite], work.dir),
    );
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain(`installing the suite: ${suite}`);
    expect(existsSync(join(brokenDir, 'node_modules/@nova-common/conformance/package.json'))).toBe(true);
    expect(JSON.parse(readFileSync(pkgFile, 'utf8'))).toEqual(pkg);
    const report = JSON.parse(readFileSync(join(reports, 'report.json'), 'utf8')) as { summary: { failed: number }; properties: { id: string; status: string; counterexample?: { rule?: string } }[] };
    expect(report.summary.failed).toBeGreaterThan(0);
    const sequences = report.properties.find((p) => p.id === 'P-MODEL-SEQUENCES');
    expect(sequences?.status).toBe('failed');
    expect(sequences?.counterexample?.rule).toMatch(/^R-/);
    expect(readFileSync(join(reports, 'junit.xml'), 'utf8')).toMatch(/<failure/);
    expect(existsSync(join(reports, 'matrix.html'))).toBe(true);
    expect(readFileSync(join(reports, 'summary.txt'), 'utf8')).toContain('P-MODEL-SEQUENCES');
  }, 900_000);
});
