import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonReport } from '../../src/report/json-schema.js';
import { renderSite } from '../../src/site/generate.js';
import { buildSiteModel } from '../../src/site/model.js';
import { loaded, report } from './reports.js';

/** Tags the site's pages are made of; any other tag would have come from a report. */
const OWN_TAGS = new Set([
  'html', 'head', 'meta', 'title', 'style', 'body', 'nav', 'a', 'h1', 'h2', 'h3', 'h4', 'p', 'time', 'div', 'table', 'thead', 'tbody',
  'tr', 'th', 'td', 'span', 'code', 'br', 'dl', 'dt', 'dd', 'section', 'pre', 'details', 'summary',
]);
/** Where the site's links may point: its own pages and replay files, or an anchor. */
const OWN_LINK = /^(\.\.\/)?(index\.html|drivers\/[a-z0-9-]+\.html|runs\/[a-z0-9-]+\.html(#failure-[a-z0-9-]+)?|replays\/[a-z0-9-]+\/[a-z0-9-]+\.json)$|^#failure-[a-z0-9-]+$/;

/** Every report string the site shows set to `s` (or to a variant of it). */
function hostile(s: string, t: string): JsonReport {
  const r = report('libvirt-failure', { name: s, label: t, description: s, runId: t, version: s });
  r.suiteVersion = s;
  r.startedAt = t;
  r.environment = { ...r.environment, hostname: s, node: t };
  r.driver.config = { [s]: t };
  r.capabilities = r.capabilities.map((c) => ({ ...c, notes: t, id: c.id === 'operation.rescue' ? s : c.id }));
  r.properties = r.properties.map((p) => {
    const cx = p.counterexample;
    return {
      ...p,
      title: s,
      ...(p.status === 'skipped' ? { reason: t } : {}),
      ...(cx === undefined
        ? {}
        : {
            counterexample: {
              ...cx,
              rule: s,
              message: t,
              path: s,
              program: `${s}\n${t}`,
              steps: cx.steps.map((st) => ({ ...st, op: s, args: [t, { [s]: t }], actual: { ok: false as const, error: s, message: t } })),
              replay: { ...cx.replay!, message: t, driver: { name: s, module: t, config: { [s]: t } } },
            },
          }),
    };
  });
  return r;
}

function checkPage(html: string): void {
  const tags = [...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1]!.toLowerCase());
  for (const t of tags) expect(OWN_TAGS.has(t), `tag <${t}>`).toBe(true);
  expect(html).not.toMatch(/<!--|<!\[CDATA\[/);
  for (const tag of html.match(/<[a-z][^>]*>/g) ?? []) {
    expect((tag.match(/"/g) ?? []).length % 2, tag).toBe(0);
    // Attribute names outside quoted values: the renderer's own, never an event handler.
    const names = [...tag.replace(/"[^"]*"/g, '""').matchAll(/\s([a-z-]+)=/g)].map((m) => m[1]);
    for (const n of names) expect(['href', 'class', 'id', 'title', 'lang', 'charset', 'name', 'content', 'http-equiv', 'datetime', 'rowspan', 'colspan', 'data-capability']).toContain(n);
  }
  for (const m of html.matchAll(/\bhref="([^"]*)"/g)) expect(m[1], 'link target').toMatch(OWN_LINK);
}

describe('site escaping', () => {
  it('shows a hostile driver name, label and message as text, on every page', () => {
    const evil = '<script>alert(1)</script>"\'&<img src=x onerror=alert(2)>';
    const evil2 = '../../etc/passwd</pre><!-- $(rm -rf /) `x` \' "';
    const files = renderSite(buildSiteModel(loaded(hostile(evil, evil2), report('reference-pass')), { generatedAt: 'now' }));
    for (const f of files) {
      expect(f.path).toMatch(/^(index\.html|drivers\/[a-z0-9-]+\.html|runs\/[a-z0-9-]+\.html|replays\/[a-z0-9-]+\/[a-z0-9-]+\.json)$/);
      if (f.path.endsWith('.html')) checkPage(f.content);
    }
    const index = files.find((f) => f.path === 'index.html')!.content;
    expect(index).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;&lt;img src=x onerror=alert(2)&gt;');
    const run = files.find((f) => f.path.startsWith('runs/') && f.content.includes('Failures'))!.content;
    expect(run).toContain('../../etc/passwd&lt;/pre&gt;&lt;!-- $(rm -rf /) `x` &#39; &quot;');
    // The replay command quotes the hostile module path for a POSIX shell.
    expect(run).toContain(`--driver &#39;../../etc/passwd&lt;/pre&gt;&lt;!-- $(rm -rf /) \`x\` &#39;\\&#39;&#39; &quot;&#39; --replay`);
  });

  it('never lets an arbitrary report string open a tag, an attribute or a link (property)', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.string({ unit: fc.constantFrom('<', '>', '&', '"', "'", '/', '.', '=', '\n', '<script>', '<!--', 'javascript:', 'a', ' ', '#'), maxLength: 20 }),
    );
    fc.assert(
      fc.property(text, text, (s, t) => {
        const files = renderSite(buildSiteModel(loaded(hostile(s, t)), { generatedAt: 'now' }));
        for (const f of files) {
          expect(f.path).toMatch(/^[a-z0-9./-]+$/);
          expect(f.path).not.toContain('..');
          if (f.path.endsWith('.html')) checkPage(f.content);
          else expect(() => JSON.parse(f.content) as unknown).not.toThrow();
        }
      }),
      { numRuns: 30 },
    );
  });
});
