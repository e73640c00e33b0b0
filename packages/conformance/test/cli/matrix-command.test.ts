import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatJsonReport } from '../../src/report/json.js';
import { loadFixture } from '../report/load-fixtures.js';
import { runCli, tempDir } from './run-main.js';

function writeReports(cwd: string): string[] {
  const names = ['reference-pass', 'libvirt-failure', 'ironic-filtered'] as const;
  return names.map((n) => {
    writeFileSync(join(cwd, `${n}.json`), formatJsonReport(loadFixture(n)));
    return `${n}.json`;
  });
}

describe('matrix', () => {
  it('combines several JSON reports into one side-by-side matrix (--json a b c)', async () => {
    const cwd = tempDir();
    const files = writeReports(cwd);
    const r = await runCli(['matrix', '--json', ...files, '--md', 'out/m.md', '--html', 'out/m.html'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`wrote ${join(cwd, 'out/m.md')}`);
    const md = readFileSync(join(cwd, 'out/m.md'), 'utf8');
    const html = readFileSync(join(cwd, 'out/m.html'), 'utf8');
    const header = md.split('\n').find((l) => l.startsWith('| Capability |'))!;
    expect(header).toBe('| Capability | Id | @nova-common/core/testing 1.0.0 | @nova-common/driver-libvirt 1.0.0 | @nova-common/driver-ironic 1.0.0 |');
    expect(md).toMatch(/\| Rescue instance \| operation\.rescue \| \*\*complete\*\*.* \| \*\*missing\*\*.* \| \*\*unknown\*\*.* \|/);
    expect(html).toContain('<th>@nova-common/driver-ironic 1.0.0</th>');
  });

  it('accepts the flag repeated, and prints a plain table without --md/--html', async () => {
    const cwd = tempDir();
    const [a, b] = writeReports(cwd);
    const r = await runCli(['matrix', '--json', a!, '--json', b!], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^Capability +Id +@nova-common\/core\/testing 1\.0\.0 +@nova-common\/driver-libvirt 1\.0\.0$/);
    expect(r.stdout).toMatch(/^Rescue instance +operation\.rescue +complete .* missing /m);
  });

  it('a file that is not a report is a usage error naming the fields', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'x.json'), JSON.stringify({ hello: 'world' }));
    const r = await runCli(['matrix', '--json', 'x.json'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(cwd, 'x.json')} is not a nova-conformance JSON report`);
    expect(r.stderr).toMatch(/schemaVersion: /);
    expect(r.stderr).toMatch(/capabilities: /);
  });
});
