import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { toJunitXml } from '../../src/report/junit.js';
import type { PropertyResult, RunResult } from '../../src/result.js';
import { loadFixture } from './load-fixtures.js';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
  isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
});

interface ParsedCase {
  name: string;
  classname: string;
  time: string;
  failure?: { '#text'?: string; message: string; type: string };
  skipped?: { message: string };
}
interface Parsed {
  testsuites: {
    tests: string;
    failures: string;
    skipped: string;
    testsuite: { name: string; tests: string; failures: string; properties: { property: { name: string; value: string }[] }; testcase: ParsedCase[] }[];
  };
}

function parse(xml: string): Parsed {
  const valid = XMLValidator.validate(xml);
  expect(valid).toBe(true);
  return parser.parse(xml) as Parsed;
}

describe('toJunitXml', () => {
  it('writes one testcase per property with the counts', () => {
    const result = loadFixture('libvirt-failure');
    const doc = parse(toJunitXml(result));
    expect(doc.testsuites.tests).toBe(String(result.properties.length));
    expect(doc.testsuites.failures).toBe('1');
    const suite = doc.testsuites.testsuite[0]!;
    expect(suite.name).toBe('nova-conformance @nova-common/driver-libvirt@1.0.0');
    expect(suite.testcase.map((c) => c.name)).toEqual(result.properties.map((p) => `${p.id}: ${p.title}`));
    const seed = suite.properties.property.find((p) => p.name === 'seed');
    expect(seed?.value).toBe(String(result.seed));
  });

  it('puts the rule, seed, path, shrunk steps and program in the failure', () => {
    const result = loadFixture('libvirt-failure');
    const failing = result.properties.find((p) => p.status === 'failed')!;
    const cx = failing.counterexample!;
    const doc = parse(toJunitXml(result));
    const tc = doc.testsuites.testsuite[0]!.testcase.find((c) => c.failure !== undefined)!;
    expect(tc.failure!.type).toBe(cx.rule);
    expect(tc.failure!.message).toBe(`${cx.rule}: ${cx.message}`);
    const body = tc.failure!['#text']!;
    expect(body).toContain(`seed: ${cx.seed}`);
    expect(body).toContain(`path: ${cx.path}`);
    expect(body).toContain(`replay file: ${cx.replayFile}`);
    expect(body).toContain('3. suspend("3f1c8d4e-0000-4000-8000-000000000001") expected INVALID_STATE, got ok');
    expect(body).toContain(cx.program);
  });

  it('marks skipped properties with their reason', () => {
    const result = loadFixture('ironic-filtered');
    const doc = parse(toJunitXml(result));
    const skipped = doc.testsuites.testsuite[0]!.testcase.filter((c) => c.skipped !== undefined);
    expect(skipped.length).toBe(result.summary.skipped);
    expect(skipped[0]!.skipped!.message).toMatch(/^profile .* filtered out$/);
  });

  it('adds a failed differential testcase on divergence', () => {
    const result = loadFixture('reference-pass');
    const xml = toJunitXml(result, {
      differential: {
        drivers: ['ref', 'lv'],
        runs: 2,
        steps: 4,
        seed: 9,
        durationMs: 5,
        divergence: { seed: 9, stepIndex: 1, step: { op: 'reboot', args: ['u', 'SOFT'] }, outcomes: { ref: { ok: true }, lv: { ok: false, error: 'TIMEOUT' } }, program: 'await d.reboot("u", "SOFT");' },
      },
    });
    const doc = parse(xml);
    expect(doc.testsuites.failures).toBe('1');
    const tc = doc.testsuites.testsuite[0]!.testcase.at(-1)!;
    expect(tc.name).toBe('P-DIFFERENTIAL: ref vs lv');
    expect(tc.failure!['#text']).toContain('lv: {"ok":false,"error":"TIMEOUT"}');
  });
});

// Strings that stress XML: markup characters, entity look-alikes, CDATA terminators,
// control characters, lone surrogates and non-characters, mixed with ordinary text.
const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('<', '>', '&', '"', "'", ']]>', '&amp;', '&#0;', '\u0000', '\u0001', '\u001b', '\t', '\n', '\r', '\uD800', '\uDFFF', '\uFFFE', '\uFFFF', 'a', ' ', '\u00e9', '\u{1F600}'), maxLength: 30 }),
);

/** What XML 1.0 can carry of a string, as the reporter promises: forbidden code units become \uXXXX text. */
function xmlVisible(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const next = s.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += s[i]! + s[i + 1]!;
      i++;
      continue;
    }
    const forbidden = (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || (c >= 0xd800 && c <= 0xdfff) || c === 0xfffe || c === 0xffff;
    out += forbidden ? `\\u${c.toString(16).toUpperCase().padStart(4, '0')}` : s[i]!;
  }
  return out;
}

describe('JUnit escaping (property)', () => {
  it('arbitrary strings in names, messages, reasons and programs give well-formed XML that reads back', () => {
    fc.assert(
      fc.property(nasty, nasty, nasty, nasty, nasty, (driverName, title, message, program, reason) => {
        const base = loadFixture('reference-pass');
        const failed: PropertyResult = {
          ...base.properties[0]!,
          title,
          status: 'failed',
          counterexample: { seed: 1, path: '0:1', steps: [{ op: 'spawn', args: [message] }], program, message, rule: 'R-GEN-ORDER' },
        };
        const skipped: PropertyResult = { ...base.properties[1]!, status: 'skipped', reason };
        const result: RunResult = {
          ...base,
          driver: { ...base.driver, name: driverName },
          runId: title,
          properties: [failed, skipped],
          summary: { passed: 0, failed: 1, skipped: 1 },
        };
        const xml = toJunitXml(result);
        const doc = parse(xml);
        const suite = doc.testsuites.testsuite[0]!;
        expect(suite.name).toBe(`nova-conformance ${xmlVisible(driverName)}@1.0.0`);
        expect(suite.properties.property.find((p) => p.name === 'runId')?.value).toBe(xmlVisible(title));
        const [f, s] = suite.testcase;
        expect(f!.name).toBe(`${failed.id}: ${xmlVisible(title)}`);
        expect(f!.failure!.message).toBe(`R-GEN-ORDER: ${xmlVisible(message)}`);
        // XML parsers normalise CR and CRLF in text to LF (XML 1.0 section 2.11).
        const lf = (t: string): string => t.replace(/\r\n?/g, '\n');
        expect(f!.failure!['#text']).toContain(lf(xmlVisible(program)));
        expect(s!.skipped!.message).toBe(xmlVisible(reason));
      }),
      { numRuns: 300 },
    );
  });
});
