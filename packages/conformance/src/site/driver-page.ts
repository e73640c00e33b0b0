import { h, page, summaryText } from './layout.js';
import type { SiteDriver, SiteModel, SiteRun } from './model.js';

/** Runs shown side by side in the property grid: the newest ones. */
export const GRID_RUNS = 30;

/**
 * A driver's page: its backends with their latest run, every run over time (versions, seeds,
 * pass/fail), and a property-by-run grid whose failed cells link to the failure.
 */
export function renderDriverPage(model: SiteModel, driver: SiteDriver): string {
  const body: string[] = [];
  const description = driver.runs.find((r) => r.report.driver.description !== undefined)?.report.driver.description;
  body.push(`<h1>${h(driver.name)}</h1>`);
  if (description !== undefined) body.push(`<p>${h(description)}</p>`);
  body.push(`<p class="meta">${driver.runs.length} ${driver.runs.length === 1 ? 'run' : 'runs'} on ${driver.targets.length} ${driver.targets.length === 1 ? 'backend' : 'backends'}.</p>`);

  body.push('<h2>Backends</h2>', '<table class="backends">', '<thead><tr><th>Backend</th><th>Latest run</th><th>Version</th><th>Properties</th></tr></thead>', '<tbody>');
  for (const t of driver.targets) {
    const r = t.latest;
    body.push(
      `<tr><td>${t.backend === undefined ? '<span class="meta">no label</span>' : h(t.backend)}</td><td>${runLink(r)}</td>` +
        `<td>${h(r.report.driver.version)}</td><td>${summaryText(r.report.summary)}</td></tr>`,
    );
  }
  body.push('</tbody>', '</table>');

  body.push('<h2>History</h2>', '<div class="scroll"><table class="history">');
  body.push('<thead><tr><th>Started</th><th>Backend</th><th>Version</th><th>Suite</th><th>Contract</th><th>Seed</th><th>Run id</th><th>Options</th><th>Properties</th></tr></thead>', '<tbody>');
  for (const r of driver.runs) {
    const rep = r.report;
    const o = rep.options;
    body.push(
      `<tr class="${rep.summary.failed > 0 ? 'failed' : 'passed'}"><td>${runLink(r)}</td><td>${rep.driver.label === undefined ? '' : h(rep.driver.label)}</td>` +
        `<td>${h(rep.driver.version)}</td><td>${h(rep.suiteVersion)}</td><td>${h(rep.contractVersion)}</td><td><code>${h(String(rep.seed))}</code></td>` +
        `<td><code>${h(rep.runId)}</code></td><td>${o.runs} runs × ${o.steps} steps, profiles ${h(o.profiles === 'all' ? 'all' : o.profiles.join(', '))}</td>` +
        `<td>${summaryText(rep.summary)}</td></tr>`,
    );
  }
  body.push('</tbody>', '</table></div>');

  const shown = driver.runs.slice(0, GRID_RUNS);
  const which = shown.length < driver.runs.length ? `The newest ${shown.length} of ${driver.runs.length} runs (every run is in the history above)` : 'Newest run first';
  body.push('<h2>Properties over time</h2>', `<p class="meta">${which}; a failed cell links to its counterexample.</p>`, '<div class="scroll"><table class="properties">');
  body.push(`<thead><tr><th>Property</th>${shown.map((r) => `<th>${runLink(r)}${r.report.driver.label === undefined ? '' : `<br><span class="meta">${h(r.report.driver.label)}</span>`}</th>`).join('')}</tr></thead>`, '<tbody>');
  for (const id of propertyIds(shown)) {
    const cells = shown.map((r) => {
      const p = r.report.properties.find((q) => q.id === id);
      if (p === undefined) return '<td class="cell unknown">not run</td>';
      if (p.status !== 'failed') return `<td class="cell ${h(p.status)}"${p.reason === undefined ? '' : ` title="${h(p.reason)}"`}>${h(p.status)}</td>`;
      const f = r.failures.find((x) => x.property.id === id);
      return `<td class="cell failed"><a href="../runs/${r.slug}.html#${f?.anchor ?? ''}">failed</a></td>`;
    });
    body.push(`<tr><th><code>${h(id)}</code></th>${cells.join('')}</tr>`);
  }
  body.push('</tbody>', '</table></div>');
  return page({ title: `${driver.name} — ${model.title}`, siteTitle: model.title, root: '../', body });
}

function runLink(r: SiteRun): string {
  return `<a href="../runs/${r.slug}.html">${h(r.report.startedAt)}</a>`;
}

/** Every property id of the runs, in the order the newest run lists them, then the others. */
function propertyIds(runs: readonly SiteRun[]): string[] {
  const ids: string[] = [];
  for (const r of runs) for (const p of r.report.properties) if (!ids.includes(p.id)) ids.push(p.id);
  return ids;
}
