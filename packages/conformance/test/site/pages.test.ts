import { describe, expect, it } from 'vitest';
import { GRID_RUNS, renderDriverPage } from '../../src/site/driver-page.js';
import { renderIndexPage } from '../../src/site/index-page.js';
import { buildSiteModel } from '../../src/site/model.js';
import { renderRunPage } from '../../src/site/run-page.js';
import { loaded, report } from './reports.js';

const day = (n: number): string => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000).toISOString();

describe('site pages', () => {
  it('the index has one matrix row per driver and backend, each linking to its driver page and latest run', () => {
    const model = buildSiteModel(
      loaded(
        report('libvirt-failure', { label: 'kvm', startedAt: day(1), runId: 'old' }),
        report('libvirt-failure', { label: 'kvm', startedAt: day(2), runId: 'new' }),
        report('ironic-filtered', { startedAt: day(1) }),
      ),
      { generatedAt: 'now' },
    );
    const html = renderIndexPage(model);
    const rows = html.split('\n').filter((l) => l.startsWith('<tr class="target">'));
    expect(rows).toHaveLength(2);
    const kvm = rows.find((r) => r.includes('(kvm)'))!;
    const latest = model.targets.find((t) => t.backend === 'kvm')!.latest;
    expect(latest.report.runId).toBe('new');
    expect(kvm).toContain(`<a href="runs/${latest.slug}.html">${day(2)}</a>`);
    expect(kvm).toContain(`<a href="drivers/${model.drivers.find((d) => d.name === latest.report.driver.name)!.slug}.html">`);
    for (const c of latest.report.capabilities) expect(kvm).toContain(`data-capability="${c.id}" title="${c.id}: ${c.status}`);
  });

  it('a driver page lists every run in its history and the newest ones in the property grid', () => {
    const runs = Array.from({ length: GRID_RUNS + 5 }, (_, i) => report('reference-pass', { startedAt: day(i), runId: `r${i}` }));
    const model = buildSiteModel(loaded(...runs), { generatedAt: 'now' });
    const html = renderDriverPage(model, model.drivers[0]!);
    const history = html.slice(html.indexOf('<table class="history">'), html.indexOf('</table>', html.indexOf('<table class="history">')));
    expect(history.match(/<tr class="(passed|failed)">/g)).toHaveLength(GRID_RUNS + 5);
    const grid = html.slice(html.indexOf('<table class="properties">'));
    const header = grid.slice(0, grid.indexOf('</thead>'));
    expect(header.match(/<a href="\.\.\/runs\//g)).toHaveLength(GRID_RUNS);
    expect(header).toContain(day(GRID_RUNS + 4));
    expect(header).not.toContain(`>${day(4)}<`);
    expect(html).toContain(`The newest ${GRID_RUNS} of ${GRID_RUNS + 5} runs`);
  });

  it('a run page shows each failure with its rule, steps, replay command and file link', () => {
    const model = buildSiteModel(loaded(report('libvirt-failure')), { generatedAt: 'now' });
    const run = model.runs[0]!;
    const f = run.failures[0]!;
    const cx = f.property.counterexample!;
    const html = renderRunPage(model, run, model.drivers[0]!.slug);
    const section = html.slice(html.indexOf(`<section class="failure" id="${f.anchor}">`), html.indexOf('</section>'));
    expect(section).toContain(`<dd class="rule"><code>${cx.rule}</code></dd>`);
    expect(section.match(/<tr(?: class="failed")?><td>\d+<\/td>/g)).toHaveLength(cx.steps.length);
    expect(section).toContain(`href="../${f.replayPath}"`);
    expect(section).toContain(`<pre class="replay">${f.replayCommand}</pre>`);
    // The step whose outcome differs from the model's is marked.
    const wrong = cx.steps.findIndex((s) => s.expected?.ok !== s.actual?.ok);
    expect(section).toContain(`<tr class="failed"><td>${wrong + 1}</td>`);
  });

  it('a run page gives the run\'s coverage of the semantics table, or says it was not reported', () => {
    const covered = report('reference-pass');
    covered.coverage = { cellsReached: 12, cellsReachable: 14, missing: [{ state: 'PAUSED', column: 'rescue' }, { state: 'RESCUED', column: '<i>x</i>' }], errorPaths: { pause: { NOT_FOUND: 1 } }, steeredRuns: 0, budget: '5000 steps' };
    const model = buildSiteModel(loaded(covered, report('libvirt-failure')), { generatedAt: 'now' });
    const pages = model.runs.map((run) => renderRunPage(model, run, model.drivers[0]!.slug));
    const withIt = pages.find((p) => p.includes('cells 12/14'))!;
    expect(withIt).toContain('<dt>Semantics table coverage</dt><dd>cells 12/14 reached, 1 error path; missing PAUSED/rescue, RESCUED/&lt;i&gt;x&lt;/i&gt;</dd>');
    expect(pages.filter((p) => p.includes('<dt>Semantics table coverage</dt><dd>not reported</dd>'))).toHaveLength(1);
  });
});
