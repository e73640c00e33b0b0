import type { CoverageResult, MatrixStatus } from '../result.js';
import { escapeMarkdownCell as cell, escapeMarkdownText as text } from './escape.js';
import { STATUS_DESCRIPTIONS, computeSupportMatrix, evidenceSummary, type MatrixCell, type MatrixOptions, type MatrixSource, type SupportMatrix } from './matrix.js';

const STATUS_ORDER: MatrixStatus[] = ['complete', 'partial', 'missing', 'unknown'];

/**
 * The support matrix as GitHub-flavoured Markdown: a header with each driver's versions,
 * a legend, then one table per profile (rows: capabilities, columns: drivers). Every string
 * taken from a report is escaped.
 */
export function toMatrixMarkdown(sources: readonly MatrixSource[], options: MatrixOptions = {}): string {
  return renderMatrixMarkdown(
    computeSupportMatrix(sources, options),
    sources.map((s) => (s as MatrixSource & { coverage?: CoverageResult }).coverage),
  );
}

/**
 * `coverage`, per column, the run's coverage of the semantics table (reports written before it
 * was reported have none): a table of cells reached follows the drivers' table when any has it.
 */
export function renderMatrixMarkdown(matrix: SupportMatrix, coverage: readonly (CoverageResult | undefined)[] = []): string {
  const out: string[] = [];
  out.push('# Support matrix', '');
  out.push(`Generated at ${text(matrix.generatedAt)} by nova-conformance.`, '');

  out.push('| Driver | Version | Suite | Contract | Run id | Seed | Properties |');
  out.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const c of matrix.columns) {
    const props = `${c.summary.passed} passed, ${c.summary.failed} failed, ${c.summary.skipped} skipped`;
    out.push(`| ${[c.runLabel === undefined ? c.name : `${c.name} (${c.runLabel})`, c.version, c.suiteVersion, c.contractVersion, c.runId, String(c.seed), props].map(cell).join(' | ')} |`);
  }
  out.push('');
  if (coverage.some((c) => c !== undefined)) out.push(...coverageTable(matrix, coverage));

  out.push('Legend:', '');
  for (const s of STATUS_ORDER) out.push(`- **${s}**: ${STATUS_DESCRIPTIONS[s]}.`);
  out.push('');

  for (const group of matrix.groups) {
    out.push(`## Profile ${text(group.profile)}`, '');
    out.push(`| Capability | Id | ${matrix.columns.map((c) => cell(c.label)).join(' | ')} |`);
    out.push(`| --- | --- |${matrix.columns.map(() => ' --- |').join('')}`);
    out.push(
      `| *whole profile* | |${group.supported.map((s) => ` ${s === undefined ? 'not reported' : s ? 'supported' : 'not supported'} |`).join('')}`,
    );
    for (const row of group.rows) {
      const id = `${cell(row.id)}${row.nova ? '' : ' (not in Nova)'}`;
      out.push(`| ${cell(row.title)} | ${id} |${row.cells.map((c) => ` ${renderCell(c)} |`).join('')}`);
    }
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** Cells of the semantics table reached per run, with the missing ones named and the error paths counted. */
function coverageTable(matrix: SupportMatrix, coverage: readonly (CoverageResult | undefined)[]): string[] {
  const out = ['Semantics table coverage (cells: state x operation reachable with the declared capabilities; error paths: error codes checked per operation):', ''];
  out.push('| Driver | Cells reached | Missing cells | Error paths |');
  out.push('| --- | --- | --- | --- |');
  matrix.columns.forEach((col, i) => {
    const c = coverage[i];
    if (c === undefined) {
      out.push(`| ${cell(col.label)} | not reported | | |`);
      return;
    }
    const paths = Object.entries(c.errorPaths).map(([op, codes]) => `${op}: ${Object.keys(codes).join(', ')}`);
    const missing = c.missing.length === 0 ? 'none' : c.missing.map((m) => `${m.state}/${m.column}`).join(', ');
    out.push(`| ${cell(col.label)} | ${c.cellsReached}/${c.cellsReachable} | ${cell(missing)} | ${paths.length === 0 ? 'none' : paths.map(cell).join('<br>')} |`);
  });
  out.push('');
  return out;
}

function renderCell(c: MatrixCell): string {
  const parts = [`**${c.status}**`];
  const summary = evidenceSummary(c);
  if (summary !== '') parts.push(cell(summary));
  if (c.evidence.length > 0) parts.push(cell(c.evidence.map((e) => (e.status === 'passed' ? e.propertyId : `${e.propertyId} (${e.status})`)).join(', ')));
  if (c.declared !== undefined && c.declared !== c.status) parts.push(cell(`declared ${c.declared}`));
  if (c.notes !== undefined && c.notes !== '') parts.push(`note: ${cell(c.notes)}`);
  return parts.join('<br>');
}
