import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderContractTables } from './render.js';

const DOC = fileURLToPath(new URL('../../../../docs/contract.md', import.meta.url));
const BEGIN = '<!-- BEGIN GENERATED: contract tables (packages/core/src/semantics/render.ts) -->';
const END = '<!-- END GENERATED -->';

describe('docs/contract.md', () => {
  it('carries the tables generated from the code (set UPDATE_GOLDEN=1 to refresh)', () => {
    const doc = readFileSync(DOC, 'utf8');
    const start = doc.indexOf(BEGIN);
    const end = doc.indexOf(END);
    expect(start, 'docs/contract.md must contain the generated-section markers').toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const current = doc.slice(start + BEGIN.length + 1, end);
    const fresh = renderContractTables();
    if (process.env.UPDATE_GOLDEN === '1' && current !== fresh) {
      writeFileSync(DOC, doc.slice(0, start + BEGIN.length + 1) + fresh + doc.slice(end));
      return;
    }
    expect(current).toBe(fresh);
  });
});
