import { describe, expect, it } from 'vitest';
import { parsePlugReport, plugMatrixMarkdown } from '@nova-common/conformance';
import { runPlugsOnHost } from '../src/conformance/index.js';

// What the main job and third-party CI run: every plug of this package through the plug suites
// on this host, as one plug report the support matrix reads back.
describe('runPlugsOnHost', () => {
  it('runs every plug, reports what each accepts, and the report reads back into the matrix rows', async () => {
    const seen: string[] = [];
    const report = await runPlugsOnHost({ seed: 11, host: 'test-host', onResult: (r) => seen.push(r.plugin) });
    // CI installs Open vSwitch and tgt (scripts/lib/plugs-prereqs.sh): every plug runs, none is left out.
    expect(report.notRun).toEqual([]);
    expect(report.runs.map((r) => `${r.kind}:${r.plugin.split(' ')[0]}`)).toEqual([
      'vif:linux-bridge-tap',
      'vif:linux-bridge-veth',
      'volume:file',
      'volume:loop',
      'vif:ovs',
      'volume:iscsi',
    ]);
    expect(seen).toHaveLength(6);
    const failed = report.runs.flatMap((r) => r.properties.filter((p) => !p.passed).map((p) => `${r.plugin} ${p.id}: ${p.detail}`));
    expect(failed).toEqual([]);
    expect(report.runs.find((r) => r.plugin.startsWith('linux-bridge-veth'))?.accepts).toEqual(['bridge', 'ethernet']);
    const back = parsePlugReport(JSON.parse(JSON.stringify(report)), 'report');
    const md = plugMatrixMarkdown([back]).join('\n');
    for (const id of ['PLUG-VIF-MODEL', 'PLUG-VIF-FOREIGN', 'PLUG-VOLUME-EXTEND', 'PLUG-VOLUME-FOREIGN']) expect(md).toContain(`| ${id} |`);
    expect(md).not.toContain('FAILED');
  });
});
