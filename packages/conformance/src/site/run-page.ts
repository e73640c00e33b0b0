import { coverageLine } from '../coverage/result.js';
import { redactSecrets } from '../report/json.js';
import type { JsonReport } from '../report/json-schema.js';
import { h, page, summaryText, targetName } from './layout.js';
import { hasConfig, type SiteFailure, type SiteModel, type SiteRun } from './model.js';

type Step = NonNullable<JsonReport['properties'][number]['counterexample']>['steps'][number];

/**
 * One run: where and how it ran, its properties and capabilities, and for every failure the
 * rule, the message, the shrunk steps, the replay command (with the replay file to download)
 * and the runnable program.
 */
export function renderRunPage(model: SiteModel, run: SiteRun, driverSlug: string): string {
  const r = run.report;
  const body: string[] = [];
  body.push(`<h1>${targetName(r.driver.name, r.driver.label)}</h1>`);
  body.push(`<p class="meta">Run of <time datetime="${h(r.startedAt)}">${h(r.startedAt)}</time> · <a href="../drivers/${driverSlug}.html">history of this driver</a></p>`);
  body.push('<dl class="run">');
  const env = r.environment;
  const items: [string, string][] = [
    ['Driver version', h(r.driver.version)],
    ['Suite / contract', `${h(r.suiteVersion)} / ${h(r.contractVersion)}`],
    ['Seed', `<code>${h(String(r.seed))}</code>`],
    ['Run id', `<code>${h(r.runId)}</code>`],
    ['Options', `${r.options.runs} runs × ${r.options.steps} steps, ${r.options.maxInstances} instances, profiles ${h(r.options.profiles === 'all' ? 'all' : r.options.profiles.join(', '))}`],
    ['Environment', `${h(env.hostname)} · node ${h(env.node)} · ${h(env.platform)}-${h(env.arch)}${env.ci ? ' · CI' : ''}`],
    ['Duration', `${(r.durationMs / 1000).toFixed(1)} s`],
    ['Properties', summaryText(r.summary)],
    ['Semantics table coverage', r.coverage === undefined ? 'not reported' : h(coverageLine(r.coverage, Number.POSITIVE_INFINITY))],
  ];
  if (r.driver.description !== undefined) items.splice(1, 0, ['Description', h(r.driver.description)]);
  if (hasConfig(r)) items.push(['Configuration', `<pre>${h(JSON.stringify(redactSecrets(r.driver.config), null, 2))}</pre>`]);
  for (const [k, v] of items) body.push(`<dt>${k}</dt><dd>${v}</dd>`);
  body.push('</dl>');

  if (run.failures.length > 0) {
    body.push('<h2 id="failures">Failures</h2>');
    for (const f of run.failures) body.push(...failure(f, hasConfig(r)));
  }

  body.push('<h2>Properties</h2>', '<table class="properties">', '<thead><tr><th>Property</th><th>Title</th><th>Status</th><th>Runs</th><th>Steps</th><th>Time</th></tr></thead>', '<tbody>');
  for (const p of r.properties) {
    const f = run.failures.find((x) => x.property.id === p.id);
    const status = f === undefined ? h(p.status) + (p.reason === undefined ? '' : ` <span class="meta">(${h(p.reason)})</span>`) : `<a href="#${f.anchor}">failed</a>`;
    body.push(
      `<tr><td><code>${h(p.id)}</code></td><td>${h(p.title)}</td><td class="${h(p.status)}">${status}</td>` +
        `<td>${p.runs}</td><td>${p.steps}</td><td>${Math.round(p.durationMs)} ms</td></tr>`,
    );
  }
  body.push('</tbody>', '</table>');

  body.push('<h2>Capabilities</h2>', '<table class="capabilities">', '<thead><tr><th>Capability</th><th>Declared</th><th>Status</th><th>Evidence</th><th>Note</th></tr></thead>', '<tbody>');
  for (const c of r.capabilities) {
    body.push(
      `<tr><td><code>${h(c.id)}</code></td><td>${h(c.declared)}</td><td class="${h(c.status)}">${h(c.status)}</td>` +
        `<td>${c.evidence.map((e) => `<code>${h(e)}</code>`).join(', ')}</td><td>${h(c.notes ?? '')}</td></tr>`,
    );
  }
  body.push('</tbody>', '</table>');

  const d = r.differential;
  if (d !== undefined) {
    body.push('<h2>Differential run</h2>', `<p>${h(d.drivers.join(' vs '))}: ${d.runs} runs × ${d.steps} steps, seed <code>${h(String(d.seed))}</code>.</p>`);
    if (d.divergence === undefined) body.push('<p>No divergence.</p>');
    else {
      const v = d.divergence;
      body.push(`<p class="bad">Diverged at step ${v.stepIndex}: <code>${h(formatCall(v.step))}</code></p>`);
      body.push(`<pre>${h(Object.entries(v.outcomes).map(([name, o]) => `${name}: ${JSON.stringify(o)}`).join('\n'))}</pre>`);
      body.push(`<details><summary>Program</summary><pre>${h(v.program)}</pre></details>`);
    }
  }
  return page({ title: `${r.driver.name} ${r.startedAt} — ${model.title}`, siteTitle: model.title, root: '../', body });
}

function failure(f: SiteFailure, configured: boolean): string[] {
  const p = f.property;
  const cx = p.counterexample;
  const out = [`<section class="failure" id="${f.anchor}">`, `<h3><code>${h(p.id)}</code> ${h(p.title)}</h3>`];
  if (cx === undefined) {
    out.push('<p>Failed without a counterexample.</p>', `<p>Re-run the whole run:</p><pre class="rerun">${h(f.rerunCommand)}</pre>`, '</section>');
    return out;
  }
  out.push('<dl>');
  out.push(`<dt>Rule</dt><dd class="rule"><code>${h(cx.rule ?? 'none')}</code></dd>`);
  out.push(`<dt>Message</dt><dd class="message">${h(cx.message)}</dd>`);
  out.push(`<dt>Seed / path</dt><dd><code>${h(String(cx.seed))}</code> / <code>${h(cx.path)}</code></dd>`);
  out.push('</dl>');
  out.push(`<h4>Counterexample (${cx.steps.length} ${cx.steps.length === 1 ? 'step' : 'steps'})</h4>`);
  out.push('<table class="steps">', '<thead><tr><th>#</th><th>Call</th><th>Expected</th><th>Actual</th></tr></thead>', '<tbody>');
  cx.steps.forEach((s, i) => {
    const wrong = s.expected !== undefined && s.actual !== undefined && outcome(s.expected) !== outcome(s.actual);
    out.push(
      `<tr${wrong ? ' class="failed"' : ''}><td>${i + 1}</td><td><code>${h(formatCall(s))}</code></td>` +
        `<td>${s.expected === undefined ? '' : h(outcome(s.expected))}</td><td>${s.actual === undefined ? '' : h(actualText(s.actual))}</td></tr>`,
    );
  });
  out.push('</tbody>', '</table>');
  if (f.replayCommand !== undefined && f.replayPath !== undefined) {
    const name = f.replayPath.slice(f.replayPath.lastIndexOf('/') + 1);
    out.push(`<h4>Replay</h4>`, `<p>Download <a class="replay-file" href="../${f.replayPath}" download>${h(name)}</a>, then run:</p>`);
    out.push(`<pre class="replay">${h(f.replayCommand)}</pre>`);
    if (configured) out.push('<p class="meta">The run used a driver configuration (above): add <code>--config &lt;file&gt;</code> with it; secrets were redacted from the report.</p>');
  }
  out.push(`<p>Or re-run the whole run with the same seed:</p><pre class="rerun">${h(f.rerunCommand)}</pre>`);
  out.push(`<details><summary>Program</summary><pre class="program">${h(cx.program)}</pre></details>`);
  out.push('</section>');
  return out;
}

function formatCall(s: Step): string {
  return `${s.op}(${s.args.map((a) => JSON.stringify(a) ?? 'undefined').join(', ')})`;
}

function outcome(o: NonNullable<Step['expected'] | Step['actual']>): string {
  return o.ok ? 'ok' : o.error;
}

function actualText(o: NonNullable<Step['actual']>): string {
  return o.ok ? 'ok' : `${o.error}${o.message === undefined ? '' : ` (${o.message})`}`;
}
