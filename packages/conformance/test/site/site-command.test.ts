import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HELP } from '../../src/cli/help.js';
import { runCli, tempDir } from '../cli/run-main.js';
import { report } from './reports.js';

function write(dir: string, name: string, value: unknown): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

describe('nova-conformance site', () => {
  it('builds the site from files and directories, skipping the replay files a run writes beside its report', async () => {
    const cwd = tempDir();
    write(cwd, 'reports/2025-01/libvirt.json', report('libvirt-failure', { label: 'kvm' }));
    const failed = report('libvirt-failure').properties.find((p) => p.status === 'failed')!;
    write(cwd, 'reports/2025-01/replay-nc-lv-0002.json', failed.counterexample!.replay);
    write(cwd, 'ref.json', report('reference-pass'));
    const r = await runCli(['site', '--out', 'site', '--title', 'Nightly', 'reports', 'ref.json'], { cwd });
    expect(r.stderr).toMatch(/wrote \d+ files to .*site: 2 runs of 2 drivers on 2 backends\n$/);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(join(cwd, 'site', 'index.html'));
    const index = readFileSync(join(cwd, 'site', 'index.html'), 'utf8');
    expect(index).toContain('<h1>Nightly</h1>');
    expect(readdirSync(join(cwd, 'site', 'drivers'))).toHaveLength(2);
    expect(readdirSync(join(cwd, 'site', 'runs'))).toHaveLength(2);
    const [replayDir] = readdirSync(join(cwd, 'site', 'replays'));
    const [replayFile] = readdirSync(join(cwd, 'site', 'replays', replayDir!));
    const replay = JSON.parse(readFileSync(join(cwd, 'site', 'replays', replayDir!, replayFile!), 'utf8')) as { format: string; calls: unknown[] };
    expect(replay.format).toBe('nova-conformance-replay');
    expect(replay.calls).toEqual(failed.counterexample!.replay!.calls);
  });

  it('names each invalid file and field on stderr, writes the site from the others and exits 1', async () => {
    const cwd = tempDir();
    write(cwd, 'in/good.json', report('reference-pass'));
    const bad = report('reference-pass') as unknown as { driver: Record<string, unknown> };
    delete bad.driver.name;
    write(cwd, 'in/bad.json', bad);
    write(cwd, 'in/broken.json', '{ not json');
    const r = await runCli(['site', '--out', 'out', 'in'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`nova-conformance site: ${join(cwd, 'in', 'bad.json')} is not a nova-conformance JSON report: driver.name: `);
    expect(r.stderr).toContain(`nova-conformance site: ${join(cwd, 'in', 'broken.json')} is not a nova-conformance JSON report: (root): invalid JSON`);
    expect(r.stderr).toMatch(/1 run of 1 driver on 1 backend; 2 invalid files left out/);
    expect(readFileSync(join(cwd, 'out', 'index.html'), 'utf8')).toContain('@nova-common/core/testing');
  });

  it('a replay file named explicitly is not a report', async () => {
    const cwd = tempDir();
    const failed = report('libvirt-failure').properties.find((p) => p.status === 'failed')!;
    write(cwd, 'replay.json', failed.counterexample!.replay);
    write(cwd, 'good.json', report('reference-pass'));
    const r = await runCli(['site', '--out', 'out', 'replay.json', 'good.json'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/replay\.json is not a nova-conformance JSON report: \$schema: /);
  });

  it('usage errors: no --out, no input, an unreadable input, no valid report (nothing written)', async () => {
    const cwd = tempDir();
    write(cwd, 'bad.json', { hello: 'world' });
    mkdirSync(join(cwd, 'empty'));
    const cases: [string[], RegExp][] = [
      [['site', 'bad.json'], /--out <dir> is required/],
      [['site', '--out', 'out'], /give at least one report file or directory/],
      [['site', '--out', 'out', 'missing.json'], /cannot read .*missing\.json: ENOENT/],
      [['site', '--out', 'out', 'bad.json'], /none of the files is a valid report; nothing written/],
      [['site', '--out', 'out', 'empty'], /no JSON file found in empty/],
      [['site', '--out', 'out', '--bogus', 'bad.json'], /unknown option '--bogus'/],
      [['site', '--out', 'out', '--title', ' ', 'bad.json'], /--title must be non-blank/],
    ];
    for (const [argv, message] of cases) {
      const r = await runCli(argv, { cwd });
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('Run `nova-conformance site --help` for usage.');
    }
    expect(existsSync(join(cwd, 'out'))).toBe(false);
  });

  it('--help prints the usage', async () => {
    const r = await runCli(['site', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(HELP.site);
  });
});
