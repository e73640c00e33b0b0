import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toMatrixHtml } from '../../src/report/matrix-html.js';
import { toMatrixMarkdown } from '../../src/report/matrix-markdown.js';
import type { RunResult } from '../../src/result.js';
import { loadFixture } from './load-fixtures.js';

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: fc.constantFrom('<', '>', '&', '"', "'", '|', '\\', '`', '*', '_', '[', ']', '(', ')', '\n', '\r', '<script>', '<!--', 'a', ' '), maxLength: 25 }),
);

function hostile(name: string, runId: string, note: string, description: string): RunResult {
  const r = loadFixture('libvirt-failure');
  r.driver = { ...r.driver, name, description };
  r.runId = runId;
  r.capabilities = r.capabilities.map((c) => ({ ...c, notes: note }));
  return r;
}

/** Tags the HTML renderer itself writes; any other tag would have come from a report. */
const OWN_TAGS = new Set(['html', 'head', 'meta', 'title', 'style', 'body', 'h1', 'h2', 'p', 'time', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'span', 'code', 'div', 'details', 'summary', 'ul', 'li']);

/** Pipes not escaped by an odd run of backslashes: the cell separators of a Markdown table row. */
function separators(line: string): number {
  let n = 0;
  for (let i = 0; i < line.length; i++) {
    if (line[i] !== '|') continue;
    let backslashes = 0;
    for (let j = i - 1; j >= 0 && line[j] === '\\'; j--) backslashes++;
    if (backslashes % 2 === 0) n++;
  }
  return n;
}

describe('matrix escaping (property)', () => {
  it('HTML: arbitrary report strings never open a tag or an attribute', () => {
    fc.assert(
      fc.property(text, text, text, text, (name, runId, note, description) => {
        const html = toMatrixHtml([hostile(name, runId, note, description)], { generatedAt: 'now' });
        const tags = [...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1]!.toLowerCase());
        for (const t of tags) expect(OWN_TAGS.has(t)).toBe(true);
        expect(html.match(/<!--/g)).toBeNull();
        // every attribute value the renderer writes is quoted and closed on the same tag
        for (const tag of html.match(/<[a-z][^>]*>/g) ?? []) expect((tag.match(/"/g) ?? []).length % 2).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('Markdown: arbitrary report strings never add or remove a table cell, nor raw HTML', () => {
    fc.assert(
      fc.property(text, text, text, (name, runId, note) => {
        const md = toMatrixMarkdown([hostile(name, runId, note, '')], { generatedAt: 'now' });
        const lines = md.split('\n');
        const driversHeader = lines.findIndex((l) => l.startsWith('| Driver |'));
        expect(separators(lines[driversHeader + 2]!)).toBe(8);
        for (const l of lines.filter((x) => x.startsWith('| ') && !x.startsWith('| Driver') && lines.indexOf(x) !== driversHeader + 2)) {
          if (l.startsWith('| --- | --- | --- | --- |')) continue;
          expect(separators(l)).toBe(4);
        }
        const rawTags = [...md.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1]!.toLowerCase());
        for (const t of rawTags) expect(t).toBe('br');
      }),
      { numRuns: 200 },
    );
  });
});
