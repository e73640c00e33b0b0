import { escapeHtml as h } from '../report/escape.js';

/**
 * The page shell every page of the site shares: one self-contained HTML file, its style
 * inline, no script and no external resource. The Content-Security-Policy forbids scripts and
 * any fetch, so even a report string that escaped escaping could not run or load anything.
 */
const CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #ffffff; --muted: #59636e; --line: #d1d9e0; --head: #f6f8fa;
  --complete: #d2f4d3; --partial: #fff1c2; --missing: #e6e8eb; --unknown: #f6f8fa; --failed: #ffd8d3; --bad: #cf222e; --link: #0969da; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --line: #3d444d; --head: #161b22;
  --complete: #1a4028; --partial: #4d3b00; --missing: #2f353d; --unknown: #161b22; --failed: #5d1b1b; --bad: #ff7b72; --link: #4493f8; } }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 1.5rem 2rem; }
a { color: var(--link); }
nav { margin: 0 0 1rem; color: var(--muted); }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; } h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
.meta { color: var(--muted); margin: 0 0 1rem; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 0 0 1rem; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
thead th { background: var(--head); }
th.cap { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; font-weight: 500; font-size: .8rem; }
th.profile { text-align: center; }
.complete { background: var(--complete); } .partial { background: var(--partial); } .missing { background: var(--missing); }
.unknown { background: var(--unknown); color: var(--muted); } .passed { background: var(--complete); } .failed { background: var(--failed); }
.skipped { background: var(--unknown); color: var(--muted); }
td.cell { text-align: center; font-size: .8rem; white-space: nowrap; }
.bad { color: var(--bad); font-weight: 600; }
code, pre { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background: var(--head); border: 1px solid var(--line); padding: .5rem; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
section.failure { border-left: 4px solid var(--bad); padding: 0 0 0 1rem; margin: 1rem 0 2rem; }
section.failure:target { background: var(--head); }
dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; margin: 0 0 1rem; } dt { color: var(--muted); } dd { margin: 0; }
`.trim();

export interface PageOptions {
  title: string;
  /** The site's title, for the navigation line. */
  siteTitle: string;
  /** `''` for a page at the site root, `'../'` for a page one folder down. */
  root: string;
  body: string[];
}

export function page(options: PageOptions): string {
  const { title, siteTitle, root, body } = options;
  return `${[
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src 'self'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${h(title)}</title>`,
    `<style>\n${CSS}\n</style>`,
    '</head>',
    '<body>',
    `<nav><a href="${root}index.html">${h(siteTitle)}</a></nav>`,
    ...body,
    '</body>',
    '</html>',
  ].join('\n')}\n`;
}

/** A driver's name with its backend: `name (label)`. */
export function targetName(driver: string, backend: string | undefined): string {
  return backend === undefined ? h(driver) : `${h(driver)} <span class="meta">(${h(backend)})</span>`;
}

export function summaryText(s: { passed: number; failed: number; skipped: number }): string {
  const failed = s.failed > 0 ? `<span class="bad">${s.failed} failed</span>` : '0 failed';
  return `${s.passed} passed, ${failed}, ${s.skipped} skipped`;
}

export { h };
