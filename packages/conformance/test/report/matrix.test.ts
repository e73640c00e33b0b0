import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { CAPABILITY_CATALOG, CAPABILITY_IDS } from '@nova-common/core';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { computeSupportMatrix } from '../../src/report/matrix.js';
import { toMatrixHtml } from '../../src/report/matrix-html.js';
import { toMatrixMarkdown } from '../../src/report/matrix-markdown.js';
import type { RunResult } from '../../src/result.js';
import { fixturesDir, loadFixture, updateGolden } from './load-fixtures.js';

const generatedAt = '2025-01-02T09:00:00.000Z';

function golden(file: string, actual: string): void {
  const path = `${fixturesDir}${file}`;
  if (updateGolden || !existsSync(path)) {
    if (!updateGolden) throw new Error(`golden ${file} is missing: run the tests with UPDATE_GOLDEN=1 and review the file`);
    writeFileSync(path, actual);
  }
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

const cases: [string, RunResult[]][] = [
  ['matrix-reference', [loadFixture('reference-pass')]],
  ['matrix-three-drivers', [loadFixture('reference-pass'), loadFixture('libvirt-failure'), loadFixture('ironic-filtered')]],
];

describe('support matrix goldens', () => {
  it.each(cases)('%s.md', (name, results) => golden(`${name}.expected.md`, toMatrixMarkdown(results, { generatedAt })));
  it.each(cases)('%s.html', (name, results) => golden(`${name}.expected.html`, toMatrixHtml(results, { generatedAt })));
});

describe('computeSupportMatrix', () => {
  const m = computeSupportMatrix([loadFixture('reference-pass'), loadFixture('libvirt-failure'), loadFixture('ironic-filtered')], { generatedAt });
  const cell = (id: string, col: number) => m.groups.flatMap((g) => g.rows).find((r) => r.id === id)!.cells[col]!;

  it('has a row for every catalog capability, grouped by its profile, titled from the catalog', () => {
    const rows = m.groups.flatMap((g) => g.rows.map((r) => ({ ...r, profile: g.profile })));
    expect(rows.map((r) => r.id).sort()).toEqual([...CAPABILITY_IDS].sort());
    for (const r of rows) {
      expect(r.title).toBe(CAPABILITY_CATALOG[r.id as keyof typeof CAPABILITY_CATALOG].title);
      expect(r.profile).toBe(CAPABILITY_CATALOG[r.id as keyof typeof CAPABILITY_CATALOG].profile);
    }
  });

  it('takes each cell from the run: complete, partial on failure, missing verified, unknown when filtered', () => {
    expect(cell('operation.pause', 0).status).toBe('complete');
    expect(cell('operation.pause', 1).status).toBe('partial');
    expect(cell('operation.pause', 1).failed).toBe(1);
    expect(cell('operation.rescue', 1).status).toBe('missing');
    expect(cell('operation.rescue', 1).evidence.map((e) => e.propertyId)).toEqual(['P-UNSUPPORTED-operation.rescue']);
    expect(cell('operation.attach-volume', 2).status).toBe('unknown');
    expect(cell('operation.pause', 2).status).toBe('missing');
  });

  it('counts the evidence', () => {
    const c = cell('operation.launch', 0);
    expect(c.evidence.map((e) => e.propertyId)).toEqual(['P-MODEL-SEQUENCES']);
    expect(c.passed).toBe(1);
    expect(c.runs).toBe(20);
  });

  it('labels two runs of the same driver apart by run id', () => {
    const a = loadFixture('reference-pass');
    const b = { ...a, runId: 'nc-second' };
    expect(computeSupportMatrix([a, b]).columns.map((c) => c.label)).toEqual(['@nova-common/core/testing 1.0.0 (nc-ref-0001)', '@nova-common/core/testing 1.0.0 (nc-second)']);
  });

  it("heads a labelled run's column with its label, and adds the run id only when two columns still read the same", () => {
    const a = loadFixture('reference-pass');
    const docker = { ...a, runId: 'nc-d', driver: { ...a.driver, label: 'dockerd 20.10' } };
    const podman = { ...a, runId: 'nc-p', driver: { ...a.driver, label: 'podman 4.3' } };
    const again = { ...a, runId: 'nc-p2', driver: { ...a.driver, label: 'podman 4.3' } };
    expect(computeSupportMatrix([docker, podman]).columns.map((c) => c.label)).toEqual([
      '@nova-common/core/testing 1.0.0 (dockerd 20.10)',
      '@nova-common/core/testing 1.0.0 (podman 4.3)',
    ]);
    expect(computeSupportMatrix([docker, podman, again]).columns.map((c) => c.label)).toEqual([
      '@nova-common/core/testing 1.0.0 (dockerd 20.10)',
      '@nova-common/core/testing 1.0.0 (podman 4.3) (nc-p)',
      '@nova-common/core/testing 1.0.0 (podman 4.3) (nc-p2)',
    ]);
    const md = toMatrixMarkdown([docker, podman], { generatedAt });
    expect(md).toContain('| @nova-common/core/testing (dockerd 20.10) | 1.0.0 |');
    expect(toMatrixHtml([podman], { generatedAt })).toContain('@nova-common/core/testing</span> (podman 4.3)</td>');
  });

  it('shows each run\'s coverage of the semantics table in both renderings, escaped, and "not reported" for a report without it', () => {
    const covered = loadFixture('reference-pass');
    covered.coverage = {
      cellsReached: 199,
      cellsReachable: 200,
      missing: [{ state: 'RESCUED', column: '<b>detachVolume</b>' }],
      errorPaths: { pause: { INVALID_STATE: 3, NOT_FOUND: 2 }, destroy: { CANCELLED: 1 } },
      steeredRuns: 2,
      budget: '5000 steps',
    };
    const without = loadFixture('libvirt-failure');
    const html = toMatrixHtml([covered, without], { generatedAt });
    expect(html).toContain('<h2>Semantics table coverage</h2>');
    expect(html).toContain('<td class="partial">199/200</td>');
    expect(html).toContain('<code>RESCUED/&lt;b&gt;detachVolume&lt;/b&gt;</code>');
    expect(html).not.toContain('<b>detachVolume</b>');
    expect(html).toContain('<li><code>pause</code>: INVALID_STATE, NOT_FOUND</li>');
    expect(html).toContain('<td class="unknown">not reported</td>');
    const md = toMatrixMarkdown([covered, without], { generatedAt });
    expect(md).toContain('| 199/200 |');
    expect(md).toContain('not reported');
    // A report without coverage alone: no coverage table at all.
    expect(toMatrixHtml([without], { generatedAt })).not.toContain('Semantics table coverage');
  });

  it('keeps capabilities a newer suite reported under "other", and marks absent ones unknown', () => {
    const a = loadFixture('reference-pass');
    const newer = { ...a, capabilities: [...a.capabilities.filter((c) => c.id !== 'operation.pause'), { id: 'operation.teleport', declared: 'complete', status: 'complete', evidence: [] }] } as unknown as RunResult;
    const mm = computeSupportMatrix([newer]);
    const other = mm.groups.find((g) => g.profile === 'other')!;
    expect(other.rows.map((r) => r.id)).toEqual(['operation.teleport']);
    const pause = mm.groups.flatMap((g) => g.rows).find((r) => r.id === 'operation.pause')!;
    expect(pause.cells[0]!.status).toBe('unknown');
  });
});

const hostile = (): RunResult => {
  const r = loadFixture('libvirt-failure');
  r.driver = { ...r.driver, name: '<script>alert(1)</script>', version: '1.0.0" onmouseover="x', description: "a'b", label: '<img src=x> | **label**' };
  r.runId = '| **bold** [link](http://x) `code` <img src=x>';
  r.capabilities = r.capabilities.map((c) => ({ ...c, notes: 'note <iframe src="http://evil"></iframe> | cell\nbreak & more' }));
  return r;
};

describe('matrix escaping', () => {
  it('HTML: no string from a report becomes markup, and the page loads nothing from outside', () => {
    const html = toMatrixHtml([hostile(), loadFixture('reference-pass')], { generatedAt });
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<iframe');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('" onmouseover');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toMatch(/<[^>]*\b(src|href)\s*=/i);
    expect(html).not.toMatch(/url\(|@import|<link|<script/i);
    // The page is well-formed as XML once the doctype is set aside: every tag the renderer opens, it closes.
    const body = html.replace('<!DOCTYPE html>', '').replace(/<meta ([^>]*[^/])>/g, '<meta $1/>');
    expect(XMLValidator.validate(body)).toBe(true);
  });

  it('Markdown: table cells cannot be broken out of, and inline markup stays literal', () => {
    const md = toMatrixMarkdown([hostile()], { generatedAt });
    const tableLines = md.split('\n').filter((l) => l.startsWith('| '));
    // every row of the capability tables has the same number of unescaped pipes as its header
    for (const line of tableLines) expect(line.replace(/\\\|/g, '').split('|').length).toBeGreaterThanOrEqual(4);
    const pause = tableLines.find((l) => l.includes('operation.pause'))!;
    expect(pause.replace(/\\\|/g, '').split('|').length).toBe(5);
    expect(md).not.toContain('<iframe');
    expect(md).not.toContain('<script');
    expect(md).toContain('\\*\\*bold\\*\\*');
    expect(md).toContain('\\*\\*label\\*\\*');
    expect(md).toContain('\\[link\\](http://x)');
    expect(md).toContain('cell<br>break &amp; more');
  });
});
