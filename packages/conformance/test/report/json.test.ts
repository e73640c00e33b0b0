import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { InvalidReportError, formatJsonReport, parseJsonReport, redactSecrets, toJsonReport } from '../../src/report/json.js';
import { REPORT_SCHEMA_ID, REPORT_SCHEMA_VERSION, reportJsonSchema, type JsonReport } from '../../src/report/json-schema.js';
import type { Counterexample, DifferentialResult, Divergence, ReplayDocument, RunResult, StepRecord } from '../../src/result.js';
import { loadFixture, updateGolden } from './load-fixtures.js';

const schemaPath = fileURLToPath(new URL('../../schemas/report.schema.json', import.meta.url));
const expectedSchemaText = `${JSON.stringify(reportJsonSchema(), null, 2)}\n`;
if (updateGolden) writeFileSync(schemaPath, expectedSchemaText);
const committedSchema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;

// Compile-time: every RunResult is a report body (the zod schema does not drift narrower than result.ts).
type ReportBody = Omit<JsonReport, '$schema' | 'schemaVersion' | 'differential'>;
const asBody = (r: RunResult): ReportBody => r;
// ...and every interface of result.ts has exactly the keys of its zod schema (`npm run typecheck` fails otherwise).
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : { onlyInResult: Exclude<keyof A, keyof B>; onlyInSchema: Exclude<keyof B, keyof A> };
type Item<T> = T extends readonly (infer U)[] ? U : never;
type Cx = NonNullable<Item<ReportBody['properties']>['counterexample']>;
export const sameKeys: [
  SameKeys<RunResult, ReportBody>,
  SameKeys<RunResult['driver'], ReportBody['driver']>,
  SameKeys<RunResult['environment'], ReportBody['environment']>,
  SameKeys<RunResult['options'], ReportBody['options']>,
  SameKeys<Item<RunResult['capabilities']>, Item<ReportBody['capabilities']>>,
  SameKeys<Item<RunResult['properties']>, Item<ReportBody['properties']>>,
  SameKeys<Counterexample, Cx>,
  SameKeys<ReplayDocument, NonNullable<Cx['replay']>>,
  SameKeys<StepRecord, Item<Cx['steps']>>,
  SameKeys<DifferentialResult, NonNullable<JsonReport['differential']>>,
  SameKeys<Divergence, NonNullable<NonNullable<JsonReport['differential']>['divergence']>>,
] = [true, true, true, true, true, true, true, true, true, true, true];

const fixtures = ['reference-pass', 'libvirt-failure', 'ironic-filtered'] as const;

describe('the published JSON Schema', () => {
  it('schemas/report.schema.json is the one generated from the zod schema (run UPDATE_GOLDEN=1 to refresh)', () => {
    expect(readFileSync(schemaPath, 'utf8')).toBe(expectedSchemaText);
  });

  it('carries its draft, and no URL of its own (nothing is published at one)', () => {
    expect(committedSchema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(committedSchema).not.toHaveProperty('$id');
  });

  it("a report's $schema is the package path of the schema file the package ships", () => {
    expect(REPORT_SCHEMA_ID).not.toMatch(/^[a-z]+:/i);
    // The path resolves through the package's own exports to the committed file...
    expect(realpathSync(createRequire(import.meta.url).resolve(REPORT_SCHEMA_ID))).toBe(realpathSync(schemaPath));
    // ...and the file goes into the packed tarball.
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('schemas');
  });

  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const validate = ajv.compile(committedSchema);

  it.each(fixtures)('a report produced from %s validates against it', (name) => {
    const report = JSON.parse(formatJsonReport(loadFixture(name))) as unknown;
    const ok = validate(report);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('rejects a report with a wrong status, naming the field', () => {
    const report = JSON.parse(formatJsonReport(loadFixture('reference-pass'))) as { properties: { status: string }[] };
    report.properties[0]!.status = 'green';
    expect(validate(report)).toBe(false);
    expect(validate.errors?.some((e) => e.instancePath === '/properties/0/status')).toBe(true);
  });

  it('rejects a report without a schemaVersion', () => {
    const report = JSON.parse(formatJsonReport(loadFixture('reference-pass'))) as Record<string, unknown>;
    delete report.schemaVersion;
    expect(validate(report)).toBe(false);
  });
});

describe('toJsonReport', () => {
  it('the failing fixture sets every optional field of a counterexample, so nothing is dropped unseen', () => {
    const cx = loadFixture('libvirt-failure').properties.find((p) => p.counterexample)!.counterexample!;
    expect(Object.keys(cx).sort()).toEqual(['message', 'path', 'program', 'replay', 'replayFile', 'rule', 'seed', 'steps']);
  });

  it.each(fixtures)('keeps every field of %s and adds $schema and schemaVersion', (name) => {
    const result = loadFixture(name);
    const report = toJsonReport(result);
    expect(report.$schema).toBe(REPORT_SCHEMA_ID);
    expect(report.schemaVersion).toBe(REPORT_SCHEMA_VERSION);
    const { $schema, schemaVersion, ...body } = report;
    expect(body).toEqual(asBody(result));
  });

  it('reads back what it wrote', () => {
    const result = loadFixture('libvirt-failure');
    const text = formatJsonReport(result);
    expect(text.endsWith('}\n')).toBe(true);
    expect(parseJsonReport(text, 'x.json')).toEqual(toJsonReport(result));
  });

  it('embeds a differential run when given one', () => {
    const differential = {
      drivers: ['a', 'b'],
      runs: 3,
      steps: 9,
      seed: 5,
      durationMs: 10,
      divergence: { seed: 5, stepIndex: 2, step: { op: 'pause', args: ['u'] }, outcomes: { a: { ok: true }, b: { ok: false } }, program: 'p' },
    };
    expect(toJsonReport(loadFixture('reference-pass'), { differential }).differential).toEqual(differential);
  });

  it('redacts secret-looking configuration values', () => {
    const result = { ...loadFixture('reference-pass') };
    result.driver = { ...result.driver, config: { url: 'http://127.0.0.1:6385', auth: { password: 'hunter2' }, apiToken: 't', nodes: [{ name: 'n' }] } };
    const report = toJsonReport(result);
    expect(report.driver.config).toEqual({ url: 'http://127.0.0.1:6385', auth: '[redacted]', apiToken: '[redacted]', nodes: [{ name: 'n' }] });
    expect(JSON.stringify(report)).not.toContain('hunter2');
    expect(redactSecrets({ a: [{ clientSecret: 'x' }] })).toEqual({ a: [{ clientSecret: '[redacted]' }] });
  });
});

describe('parseJsonReport', () => {
  it('names every offending field path', () => {
    const report = JSON.parse(formatJsonReport(loadFixture('reference-pass'))) as Record<string, unknown>;
    report.seed = 'abc';
    delete report.runId;
    let error: unknown;
    try {
      parseJsonReport(JSON.stringify(report), 'bad.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidReportError);
    const issues = (error as InvalidReportError).issues.map((i) => i.path);
    expect(issues).toContain('seed');
    expect(issues).toContain('runId');
    expect((error as Error).message).toMatch(/^bad\.json is not a nova-conformance JSON report: /);
  });

  it('rejects text that is not JSON', () => {
    expect(() => parseJsonReport('{nope', 'x.json')).toThrow(/x\.json .*invalid JSON/);
  });

  it('rejects a report of another major format version', () => {
    const report = { ...toJsonReport(loadFixture('reference-pass')), schemaVersion: '2.0.0' };
    expect(() => parseJsonReport(report)).toThrow(/schemaVersion/);
  });
});
