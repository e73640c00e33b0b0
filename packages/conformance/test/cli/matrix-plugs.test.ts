import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatJsonReport } from '../../src/report/json.js';
import { plugReport, type PlugReport } from '../../src/plugs/report.js';
import type { PlugRunResult } from '../../src/plugs/result.js';
import { loadFixture } from '../report/load-fixtures.js';
import { runCli, tempDir } from './run-main.js';

// A plug report as the plug suites' runner writes it: one VIF plugin that passed everything,
// one volume connector with a failed property (its detail must reach the matrix), and a plug
// that could not run on the host, with its reason.
const vifRun: PlugRunResult = {
  plugin: 'linux-bridge-tap',
  kind: 'vif',
  accepts: ['bridge', 'tap'],
  passed: true,
  properties: [
    { id: 'PLUG-VIF-IDEMPOTENT', title: 'plug twice answers the same device', rule: 'plug/PLUGGED', passed: true },
    { id: 'PLUG-VIF-FOREIGN', title: 'a foreign device is refused', rule: 'ownership', passed: true },
  ],
};
const volumeRun: PlugRunResult = {
  plugin: 'loop <script>',
  kind: 'volume',
  accepts: ['file'],
  passed: false,
  properties: [
    { id: 'PLUG-VOLUME-IDEMPOTENT', title: 'connect twice answers the same path', rule: 'connect/CONNECTED', passed: true },
    { id: 'PLUG-VOLUME-EXTEND', title: 'extend answers the grown size', rule: 'extend/CONNECTED', passed: false, detail: 'extend answered 1048576, expected 2097152' },
  ],
};
const report = (): PlugReport =>
  plugReport([vifRun, volumeRun], {
    host: 'ci-host',
    startedAt: '2026-12-05T00:00:00.000Z',
    seed: 7,
    notRun: [{ plugin: 'ovs', kind: 'vif', reason: 'ovs-vswitchd did not start: no datapath' }],
  });

describe('matrix with plug reports', () => {
  it('adds a table per plug kind after the drivers: properties by plug, what each accepts, failures with their detail, and what did not run', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'plugs.json'), JSON.stringify(report()));
    writeFileSync(join(cwd, 'ref.json'), formatJsonReport(loadFixture('reference-pass')));
    const r = await runCli(['matrix', '--json', 'ref.json', 'plugs.json', '--md', 'm.md', '--html', 'm.html'], { cwd });
    expect(r.code).toBe(0);
    const md = readFileSync(join(cwd, 'm.md'), 'utf8');
    expect(md).toContain('| Capability | Id | @nova-common/core/testing 1.0.0 |');
    expect(md).toContain('### VIF plugins');
    expect(md).toContain('| *accepts* | | bridge, tap |');
    expect(md).toContain('| PLUG-VIF-FOREIGN | a foreign device is refused | **passed** |');
    expect(md).toContain('| PLUG-VOLUME-EXTEND | extend answers the grown size | **FAILED**<br>extend answered 1048576, expected 2097152 |');
    expect(md).toContain('| ovs | vif | ovs-vswitchd did not start: no datapath |');
    const html = readFileSync(join(cwd, 'm.html'), 'utf8');
    expect(html).toContain('<th>loop &lt;script&gt;</th>');
    expect(html).not.toContain('<script>');
    expect(html.indexOf('<h2>Plugs</h2>')).toBeLessThan(html.indexOf('</body>'));
  });

  it('prints the plugs after the drivers in the plain table', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'plugs.json'), JSON.stringify(report()));
    const r = await runCli(['matrix', '--json', 'plugs.json'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('linux-bridge-tap (accepts bridge, tap): 2/2 properties passed');
    expect(r.stdout).toContain('loop <script> (accepts file): 1/2 properties passed; failed or not run: PLUG-VOLUME-EXTEND');
    expect(r.stdout).toContain('not run: ovs (vif): ovs-vswitchd did not start');
  });

  it('a malformed plug report is a usage error naming the field', async () => {
    const cwd = tempDir();
    const bad = { ...report(), runs: [{ ...vifRun, kind: 'disk' }] };
    writeFileSync(join(cwd, 'plugs.json'), JSON.stringify(bad));
    const r = await runCli(['matrix', '--json', 'plugs.json'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not a valid plug report: runs\.0\.kind/);
  });
});
