import type { CoverageResult, MatrixStatus } from '../result.js';
import { escapeHtml as h } from './escape.js';
import { STATUS_DESCRIPTIONS, computeSupportMatrix, evidenceSummary, type MatrixCell, type MatrixOptions, type MatrixSource, type SupportMatrix } from './matrix.js';

const STATUS_ORDER: MatrixStatus[] = ['complete', 'partial', 'missing', 'unknown'];

/** Inline, so the page is one file with no external resources; it works with scripts disabled. */
const CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #ffffff; --muted: #59636e; --line: #d1d9e0;
  --complete: #d2f4d3; --partial: #fff1c2; --missing: #e6e8eb; --unknown: #f6f8fa; --failed: #cf222e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --line: #3d444d;
  --complete: #1a4028; --partial: #4d3b00; --missing: #2f353d; --unknown: #161b22; --failed: #ff7b72; } }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 2rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
.meta { color: var(--muted); margin: 0 0 1rem; }
table { border-collapse: collapse; margin: 0 0 1.5rem; }
th, td { border: 1px solid var(--line); padding: .35rem .6rem; text-align: left; vertical-align: top; }
thead th { position: sticky; top: 0; background: var(--bg); }
tr.profile th { background: var(--unknown); font-size: 1rem; }
td.complete { background: var(--complete); } td.partial { background: var(--partial); }
td.missing { background: var(--missing); } td.unknown { background: var(--unknown); color: var(--muted); }
.status { font-weight: 600; } .ev { color: var(--muted); font-size: .85rem; }
.failed { color: var(--failed); font-weight: 600; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
details summary { cursor: pointer; } ul { margin: .2rem 0; padding-left: 1.1rem; }
.legend td:first-child { white-space: nowrap; }
`.trim();

/**
 * The support matrix as one self-contained HTML page: several drivers side by side, a
 * legend, generated-at and versions. Every string taken from a report is escaped.
 */
export function toMatrixHtml(sources: readonly MatrixSource[], options: MatrixOptions = {}): string {
  return renderMatrixHtml(
    computeSupportMatrix(sources, options),
    sources.map((s) => (s as MatrixSource & { coverage?: CoverageResult }).coverage),
  );
}

/**
 * `coverage`, per column, the run's coverage of the semantics table (reports written before it
 * was reported have none): a table of cells reached follows the drivers' table when any has it.
 */
export function renderMatrixHtml(matrix: SupportMatrix, coverage: readonly (CoverageResult | undefined)[] = []): string {
  const out: string[] = [];
  out.push('<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">');
  out.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  out.push('<title>Support matrix</title>', `<style>\n${CSS}\n</style>`, '</head>', '<body>');
  out.push('<h1>Support matrix</h1>');
  out.push(`<p class="meta">Generated at <time datetime="${h(matrix.generatedAt)}">${h(matrix.generatedAt)}</time> by nova-conformance.</p>`);

  out.push('<h2>Drivers</h2>', '<table class="drivers">');
  out.push('<thead><tr><th>Driver</th><th>Version</th><th>Suite</th><th>Contract</th><th>Run id</th><th>Seed</th><th>Started</th><th>Properties</th></tr></thead>', '<tbody>');
  for (const c of matrix.columns) {
    const failed = c.summary.failed > 0 ? `<span class="failed">${c.summary.failed} failed</span>` : '0 failed';
    const named = c.description === undefined ? h(c.name) : `<span title="${h(c.description)}">${h(c.name)}</span>`;
    const name = c.runLabel === undefined ? named : `${named} (${h(c.runLabel)})`;
    out.push(
      `<tr><td>${name}</td><td>${h(c.version)}</td><td>${h(c.suiteVersion)}</td><td>${h(c.contractVersion)}</td>` +
        `<td><code>${h(c.runId)}</code></td><td><code>${h(String(c.seed))}</code></td><td>${h(c.startedAt)}</td>` +
        `<td>${c.summary.passed} passed, ${failed}, ${c.summary.skipped} skipped</td></tr>`,
    );
  }
  out.push('</tbody>', '</table>');
  if (coverage.some((c) => c !== undefined)) out.push(...coverageTable(matrix, coverage));

  out.push('<h2>Legend</h2>', '<table class="legend">', '<tbody>');
  for (const s of STATUS_ORDER) out.push(`<tr><td class="${s}"><span class="status">${s}</span></td><td>${h(STATUS_DESCRIPTIONS[s])}</td></tr>`);
  out.push('</tbody>', '</table>');

  out.push('<h2>Capabilities</h2>', '<table class="matrix">');
  out.push(`<thead><tr><th>Capability</th><th>Id</th>${matrix.columns.map((c) => `<th>${h(c.label)}</th>`).join('')}</tr></thead>`);
  for (const group of matrix.groups) {
    out.push('<tbody>');
    const profileCells = group.supported
      .map((s) => `<th>${s === undefined ? 'not reported' : s ? 'profile supported' : 'profile not supported'}</th>`)
      .join('');
    out.push(`<tr class="profile"><th colspan="2">Profile ${h(group.profile)}</th>${profileCells}</tr>`);
    for (const row of group.rows) {
      const id = `<code>${h(row.id)}</code>${row.nova ? '' : ' <span class="ev">(not in Nova)</span>'}`;
      out.push(`<tr><td>${h(row.title)}</td><td>${id}</td>${row.cells.map(renderCell).join('')}</tr>`);
    }
    out.push('</tbody>');
  }
  out.push('</table>', '</body>', '</html>');
  return `${out.join('\n')}\n`;
}

/** Cells of the semantics table reached per run, with the missing ones named and the error paths counted. */
function coverageTable(matrix: SupportMatrix, coverage: readonly (CoverageResult | undefined)[]): string[] {
  const out = ['<h2>Semantics table coverage</h2>'];
  out.push('<p class="meta">Cells: state x operation reachable with the declared capabilities. Error paths: error codes checked per operation.</p>');
  out.push('<table class="coverage">', '<thead><tr><th>Driver</th><th>Cells reached</th><th>Missing cells</th><th>Error paths</th></tr></thead>', '<tbody>');
  matrix.columns.forEach((col, i) => {
    const c = coverage[i];
    if (c === undefined) {
      out.push(`<tr><td>${h(col.label)}</td><td class="unknown">not reported</td><td></td><td></td></tr>`);
      return;
    }
    const paths = Object.entries(c.errorPaths).map(([op, codes]) => `<li><code>${h(op)}</code>: ${Object.keys(codes).map(h).join(', ')}</li>`);
    const missing = c.missing.length === 0 ? 'none' : c.missing.map((m) => `<code>${h(m.state)}/${h(m.column)}</code>`).join(', ');
    const reached = `${c.cellsReached}/${c.cellsReachable}`;
    out.push(
      `<tr><td>${h(col.label)}</td><td class="${c.missing.length === 0 ? 'complete' : 'partial'}">${reached}</td><td>${missing}</td>` +
        `<td>${paths.length === 0 ? 'none' : `<details><summary class="ev">${paths.length} operations</summary><ul>${paths.join('')}</ul></details>`}</td></tr>`,
    );
  });
  out.push('</tbody>', '</table>');
  return out;
}

function renderCell(c: MatrixCell): string {
  const parts = [`<span class="status">${c.status}</span>`];
  if (c.declared !== undefined && c.declared !== c.status) parts.push(`<div class="ev">declared ${h(c.declared)}</div>`);
  if (c.evidence.length > 0) {
    const items = c.evidence
      .map((e) => {
        const status = e.status === 'failed' ? `<span class="failed">failed</span>` : h(e.status);
        return `<li><code>${h(e.propertyId)}</code>: ${status}, ${e.runs} runs, ${e.steps} steps</li>`;
      })
      .join('');
    parts.push(`<details><summary class="ev">${h(evidenceSummary(c))}</summary><ul>${items}</ul></details>`);
  }
  if (c.notes !== undefined && c.notes !== '') parts.push(`<div class="ev">note: ${h(c.notes)}</div>`);
  return `<td class="${c.status}">${parts.join('')}</td>`;
}
