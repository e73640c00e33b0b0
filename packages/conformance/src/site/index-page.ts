import { STATUS_DESCRIPTIONS, computeSupportMatrix, evidenceSummary, type MatrixCell } from '../report/matrix.js';
import type { MatrixStatus } from '../result.js';
import { h, page, summaryText, targetName } from './layout.js';
import type { SiteModel } from './model.js';

const STATUS_ORDER: MatrixStatus[] = ['complete', 'partial', 'missing', 'unknown'];

/**
 * The index: the support matrix with one row per driver on a backend (its latest run) and
 * one column per capability, grouped by profile; then the drivers with links to their history.
 */
export function renderIndexPage(model: SiteModel): string {
  const latest = model.targets.map((t) => t.latest);
  const matrix = computeSupportMatrix(
    latest.map((r) => r.report),
    { generatedAt: model.generatedAt },
  );
  const groups = matrix.groups.filter((g) => g.rows.length > 0);
  const body: string[] = [];
  body.push(`<h1>${h(model.title)}</h1>`);
  body.push(
    `<p class="meta">${model.runs.length} ${model.runs.length === 1 ? 'run' : 'runs'} of ${model.drivers.length} ${model.drivers.length === 1 ? 'driver' : 'drivers'}. ` +
      `Generated at <time datetime="${h(model.generatedAt)}">${h(model.generatedAt)}</time> by nova-conformance.</p>`,
  );

  body.push('<h2>Support matrix</h2>', '<p class="meta">Each row is the latest run of a driver on a backend; hover a cell for its evidence.</p>');
  body.push('<div class="scroll"><table class="matrix">', '<thead>');
  body.push(
    '<tr><th rowspan="2">Driver</th><th rowspan="2">Version</th><th rowspan="2">Latest run</th><th rowspan="2">Properties</th>' +
      groups.map((g) => `<th class="profile" colspan="${g.rows.length}">${h(g.profile)}</th>`).join('') +
      '</tr>',
  );
  body.push(`<tr>${groups.flatMap((g) => g.rows.map((r) => `<th class="cap" title="${h(r.title)}"><code>${h(r.id)}</code></th>`)).join('')}</tr>`);
  body.push('</thead>', '<tbody>');
  model.targets.forEach((t, i) => {
    const run = t.latest;
    const driver = model.drivers.find((d) => d.name === t.driver);
    const name = `<a href="drivers/${driver?.slug ?? ''}.html">${targetName(t.driver, t.backend)}</a>`;
    const cells = groups.flatMap((g) => g.rows.map((r) => cell(r.id, r.cells[i])));
    body.push(
      `<tr class="target"><th>${name}</th><td>${h(run.report.driver.version)}</td>` +
        `<td><a href="runs/${run.slug}.html">${h(run.report.startedAt)}</a></td><td>${summaryText(run.report.summary)}</td>${cells.join('')}</tr>`,
    );
  });
  body.push('</tbody>', '</table></div>');

  body.push('<h2>Legend</h2>', '<table class="legend"><tbody>');
  for (const s of STATUS_ORDER) body.push(`<tr><td class="${s}">${s}</td><td>${h(STATUS_DESCRIPTIONS[s])}</td></tr>`);
  body.push('</tbody></table>');

  body.push('<h2>Drivers</h2>', '<table class="drivers">', '<thead><tr><th>Driver</th><th>Backends</th><th>Runs</th><th>Latest failures</th></tr></thead>', '<tbody>');
  for (const d of model.drivers) {
    const backends = d.targets.map((t) => (t.backend === undefined ? '<span class="meta">no label</span>' : h(t.backend))).join(', ');
    const failing = d.targets.reduce((n, t) => n + t.latest.report.summary.failed, 0);
    body.push(
      `<tr><td><a href="drivers/${d.slug}.html">${h(d.name)}</a></td><td>${backends}</td><td>${d.runs.length}</td>` +
        `<td>${failing > 0 ? `<span class="bad">${failing}</span>` : '0'}</td></tr>`,
    );
  }
  body.push('</tbody>', '</table>');
  return page({ title: model.title, siteTitle: model.title, root: '', body });
}

function cell(capability: string, c: MatrixCell | undefined): string {
  if (c === undefined) return '<td class="cell unknown">unknown</td>';
  const detail = [
    `${capability}: ${c.status}`,
    c.declared !== undefined && c.declared !== c.status ? `declared ${c.declared}` : '',
    evidenceSummary(c),
    c.notes ?? '',
  ].filter((x) => x !== '');
  // One line of the tooltip per fact; `&#10;` keeps the element on one line of the source.
  return `<td class="cell ${h(c.status)}" data-capability="${h(capability)}" title="${detail.map(h).join('&#10;')}">${h(c.status)}</td>`;
}
