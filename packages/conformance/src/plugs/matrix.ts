import { escapeHtml as html, escapeMarkdownCell as cell } from '../report/escape.js';
import type { PlugReport } from './report.js';

/**
 * The plugs' rows of the support matrix: one table per kind (VIF plugins, volume connectors),
 * rows the plug suite's properties, columns the plugs of every plug report given (host and
 * plug), then the plugs that could not run and why. Every string from a report is escaped.
 */
interface PlugColumn {
  label: string;
  accepts: string[];
  verdicts: Map<string, { passed: boolean; detail?: string | undefined }>;
}
interface PlugTable {
  kind: 'vif' | 'volume';
  title: string;
  columns: PlugColumn[];
  rows: { id: string; title: string; rule: string }[];
}

export function computePlugMatrix(reports: readonly PlugReport[]): { tables: PlugTable[]; notRun: { label: string; kind: string; reason: string }[] } {
  const tables = (['vif', 'volume'] as const).map((kind): PlugTable => {
    const runs = reports.flatMap((r) => r.runs.filter((run) => run.kind === kind).map((run) => ({ host: r.host, run })));
    const rows = new Map<string, { id: string; title: string; rule: string }>();
    for (const { run } of runs) for (const p of run.properties) if (!rows.has(p.id)) rows.set(p.id, { id: p.id, title: p.title, rule: p.rule });
    return {
      kind,
      title: kind === 'vif' ? 'VIF plugins' : 'Volume connectors',
      columns: runs.map(({ host, run }) => ({
        label: reports.length > 1 ? `${run.plugin} on ${host}` : run.plugin,
        accepts: run.accepts,
        verdicts: new Map(run.properties.map((p) => [p.id, { passed: p.passed, detail: p.detail }])),
      })),
      rows: [...rows.values()],
    };
  });
  const notRun = reports.flatMap((r) => r.notRun.map((n) => ({ label: reports.length > 1 ? `${n.plugin} on ${r.host}` : n.plugin, kind: n.kind, reason: n.reason })));
  return { tables: tables.filter((t) => t.columns.length > 0), notRun };
}

const verdict = (v: { passed: boolean; detail?: string | undefined } | undefined): string => (v === undefined ? 'not run' : v.passed ? 'passed' : 'FAILED');

export function plugMatrixMarkdown(reports: readonly PlugReport[]): string[] {
  if (reports.length === 0) return [];
  const { tables, notRun } = computePlugMatrix(reports);
  const out: string[] = ['## Plugs', ''];
  out.push(`Plug suite ${cell(reports.map((r) => `${r.suiteVersion} (plug contract ${r.plugContractVersion}) on ${r.host}, seed ${r.seed}`).join('; '))}.`, '');
  for (const t of tables) {
    out.push(`### ${t.title}`, '');
    out.push(`| Property | Checks | ${t.columns.map((c) => cell(c.label)).join(' | ')} |`);
    out.push(`| --- | --- |${t.columns.map(() => ' --- |').join('')}`);
    out.push(`| *accepts* | |${t.columns.map((c) => ` ${cell(c.accepts.join(', '))} |`).join('')}`);
    for (const r of t.rows) {
      out.push(`| ${cell(r.id)} | ${cell(r.title)} |${t.columns.map((c) => {
        const v = c.verdicts.get(r.id);
        return ` **${verdict(v)}**${v !== undefined && !v.passed && v.detail !== undefined ? `<br>${cell(v.detail)}` : ''} |`;
      }).join('')}`);
    }
    out.push('');
  }
  if (notRun.length > 0) {
    out.push('### Not run on this host', '');
    out.push('| Plug | Kind | Why |', '| --- | --- | --- |');
    for (const n of notRun) out.push(`| ${cell(n.label)} | ${cell(n.kind)} | ${cell(n.reason)} |`);
    out.push('');
  }
  return out;
}

export function plugMatrixText(reports: readonly PlugReport[]): string[] {
  if (reports.length === 0) return [];
  const { tables, notRun } = computePlugMatrix(reports);
  const out: string[] = [];
  for (const t of tables) {
    out.push('', `[${t.title}]`);
    for (const c of t.columns) {
      const failed = t.rows.filter((r) => !(c.verdicts.get(r.id)?.passed ?? false)).map((r) => r.id);
      out.push(`  ${c.label} (accepts ${c.accepts.join(', ')}): ${t.rows.length - failed.length}/${t.rows.length} properties passed${failed.length > 0 ? `; failed or not run: ${failed.join(', ')}` : ''}`);
    }
  }
  for (const n of notRun) out.push(`  not run: ${n.label} (${n.kind}): ${n.reason}`);
  return out;
}

export function plugMatrixHtml(reports: readonly PlugReport[]): string[] {
  if (reports.length === 0) return [];
  const { tables, notRun } = computePlugMatrix(reports);
  const out: string[] = ['<h2>Plugs</h2>'];
  for (const t of tables) {
    out.push(`<h3>${html(t.title)}</h3>`, '<table>', '<thead><tr><th>Property</th><th>Checks</th>');
    for (const c of t.columns) out.push(`<th>${html(c.label)}</th>`);
    out.push('</tr></thead>', '<tbody>', `<tr><td><em>accepts</em></td><td></td>${t.columns.map((c) => `<td>${html(c.accepts.join(', '))}</td>`).join('')}</tr>`);
    for (const r of t.rows) {
      out.push(`<tr><td>${html(r.id)}</td><td>${html(r.title)}</td>${t.columns.map((c) => {
        const v = c.verdicts.get(r.id);
        return `<td class="${v === undefined ? 'unknown' : v.passed ? 'complete' : 'missing'}"${v?.detail === undefined ? '' : ` title="${html(v.detail)}"`}>${html(verdict(v))}</td>`;
      }).join('')}</tr>`);
    }
    out.push('</tbody>', '</table>');
  }
  if (notRun.length > 0) {
    out.push('<h3>Not run on this host</h3>', '<table>', '<thead><tr><th>Plug</th><th>Kind</th><th>Why</th></tr></thead>', '<tbody>');
    for (const n of notRun) out.push(`<tr><td>${html(n.label)}</td><td>${html(n.kind)}</td><td>${html(n.reason)}</td></tr>`);
    out.push('</tbody>', '</table>');
  }
  return out;
}
