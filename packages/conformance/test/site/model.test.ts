import { describe, expect, it } from 'vitest';
import { buildSiteModel } from '../../src/site/model.js';
import { slug } from '../../src/site/slug.js';
import { loaded, report } from './reports.js';

const LV = '@nova-common/driver-libvirt';

describe('site model: grouping and latest run per driver and backend', () => {
  const runs = loaded(
    report('libvirt-failure', { label: 'kvm on a', startedAt: '2025-01-01T00:00:00.000Z', runId: 'a1', version: '1.0.0' }),
    report('libvirt-failure', { label: 'kvm on a', startedAt: '2025-03-01T00:00:00.000Z', runId: 'a3', version: '1.2.0' }),
    report('libvirt-failure', { label: 'kvm on a', startedAt: '2025-02-01T00:00:00.000Z', runId: 'a2', version: '1.1.0' }),
    report('libvirt-failure', { label: 'qemu on b', startedAt: '2024-12-01T00:00:00.000Z', runId: 'b1' }),
    report('reference-pass', { startedAt: '2025-01-05T00:00:00.000Z', runId: 'r1' }),
  );
  const model = buildSiteModel(runs, { generatedAt: 'now' });

  it('has one target per driver and label, sorted by driver then backend', () => {
    expect(model.targets.map((t) => [t.driver, t.backend])).toEqual([
      ['@nova-common/core/testing', undefined],
      [LV, 'kvm on a'],
      [LV, 'qemu on b'],
    ]);
  });

  it('takes the newest run of each target as its latest, whatever the input order', () => {
    const a = model.targets.find((t) => t.backend === 'kvm on a')!;
    expect(a.latest.report.runId).toBe('a3');
    expect(a.latest.report.driver.version).toBe('1.2.0');
    expect(a.runs.map((r) => r.report.runId)).toEqual(['a3', 'a2', 'a1']);
    expect(model.targets.find((t) => t.backend === 'qemu on b')!.latest.report.runId).toBe('b1');
    const reversed = buildSiteModel([...runs].reverse(), { generatedAt: 'now' });
    expect(reversed.targets.map((t) => t.latest.report.runId)).toEqual(model.targets.map((t) => t.latest.report.runId));
  });

  it('gives each driver its whole history over every backend, newest first', () => {
    expect(model.drivers.map((d) => d.name)).toEqual(['@nova-common/core/testing', LV]);
    const lv = model.drivers.find((d) => d.name === LV)!;
    expect(lv.targets).toHaveLength(2);
    expect(lv.runs.map((r) => r.report.runId)).toEqual(['a3', 'a2', 'a1', 'b1']);
  });

  it('lists every failed property with its replay file and commands', () => {
    const run = model.targets.find((t) => t.backend === 'kvm on a')!.latest;
    expect(run.failures.map((f) => f.property.id)).toEqual(['P-MODEL-SEQUENCES']);
    const f = run.failures[0]!;
    expect(f.replayPath).toMatch(/^replays\/[a-z0-9-]+\/[a-z0-9-]+\.json$/);
    expect(f.replayCommand).toBe(`nova-conformance run --driver ${LV} --replay ${f.replayPath!.split('/').pop()}`);
    expect(f.rerunCommand).toBe(`nova-conformance run --driver ${LV} --seed=${run.report.seed} --runs 20 --steps 25 --max-instances 3`);
    expect((f.replay as { driver: { config: unknown } }).driver.config).toEqual({ uri: 'test:///default' });
    expect(model.targets[0]!.latest.failures).toEqual([]);
  });

  it('counts a report given twice once', () => {
    const twice = buildSiteModel(loaded(runs[0]!.report, runs[0]!.report), { generatedAt: 'now' });
    expect(twice.runs).toHaveLength(1);
  });

  it('redacts secrets of the driver configuration in the replay files it publishes', () => {
    const r = report('libvirt-failure');
    const p = r.properties.find((x) => x.status === 'failed')!;
    p.counterexample!.replay!.driver = { name: LV, module: LV, config: { uri: 'qemu:///system', password: 'hunter2' } };
    const f = buildSiteModel(loaded(r)).runs[0]!.failures[0]!;
    expect(JSON.stringify(f.replay)).not.toContain('hunter2');
    expect((f.replay as { driver: { config: unknown } }).driver.config).toEqual({ uri: 'qemu:///system', password: '[redacted]' });
  });

  it('orders runs with a start that is not a date as the oldest', () => {
    const m = buildSiteModel(loaded(report('reference-pass', { startedAt: 'yesterday', runId: 'x' }), report('reference-pass', { runId: 'y' })));
    expect(m.targets[0]!.latest.report.runId).toBe('y');
  });
});

describe('slug', () => {
  it('makes file names of [a-z0-9-] only, distinct for distinct strings', () => {
    const names = ['../../etc/passwd', '..\\..\\x', 'a/b', 'a b', 'A B', '<script>', '', '\u0000', 'é', 'e'];
    const slugs = names.map((n) => slug(n));
    for (const s of slugs) expect(s).toMatch(/^[a-z0-9][a-z0-9-]*$/);
    expect(new Set(slugs).size).toBe(names.length);
    expect(slug('x'.repeat(500)).length).toBeLessThanOrEqual(59);
  });
});
