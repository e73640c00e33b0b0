import type { DifferentialResult, RunResult } from '../result.js';
import { JsonReportSchema, REPORT_SCHEMA_ID, REPORT_SCHEMA_VERSION, type JsonReport } from './json-schema.js';

export interface JsonReportOptions {
  /** A differential run made together with this one, embedded as `differential`. */
  differential?: DifferentialResult;
}

/**
 * The machine-readable report of one run: the RunResult with a `$schema` pointer and a
 * `schemaVersion`, validated against the published schema before it is returned, so a
 * report that does not match its own schema is never written.
 */
export function toJsonReport(result: RunResult, options: JsonReportOptions = {}): JsonReport {
  const report = {
    $schema: REPORT_SCHEMA_ID,
    schemaVersion: REPORT_SCHEMA_VERSION,
    ...toPlainJson(result),
    driver: { ...toPlainJson(result.driver), ...(result.driver.config === undefined ? {} : { config: redactSecrets(toPlainJson(result.driver.config)) }) },
    ...(options.differential === undefined ? {} : { differential: toPlainJson(options.differential) }),
  };
  return JsonReportSchema.parse(report);
}

/** The report as the text written to a file: two-space indented, ending with a newline. */
export function formatJsonReport(result: RunResult, options: JsonReportOptions = {}): string {
  return `${JSON.stringify(toJsonReport(result, options), null, 2)}\n`;
}

/** Thrown by parseJsonReport with every offending field path. */
export class InvalidReportError extends Error {
  override readonly name = 'InvalidReportError';
  constructor(
    readonly source: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(`${source} is not a nova-conformance JSON report: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
}

/**
 * Read a JSON report back (text or parsed value) as a RunResult plus its optional
 * differential part. `source` names the input in error messages (a file path).
 */
export function parseJsonReport(input: string | unknown, source = 'report'): JsonReport {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (e) {
      throw new InvalidReportError(source, [{ path: '(root)', message: `invalid JSON: ${(e as Error).message}` }]);
    }
  }
  const parsed = JsonReportSchema.safeParse(value);
  if (!parsed.success) {
    throw new InvalidReportError(
      source,
      parsed.error.issues.map((i) => ({ path: i.path.length > 0 ? i.path.join('.') : '(root)', message: i.message })),
    );
  }
  return parsed.data;
}

/** Round-trip through JSON so the report holds exactly what a file would (no undefined, no functions, no class instances). */
function toPlainJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as T;
}

const SECRET_KEY = /pass(word)?|secret|token|credential|private.?key|api.?key|auth/i;

/**
 * Driver configurations may hold credentials (an Ironic password, a TLS key); a report is
 * meant to be published, so every value under a secret-looking key is replaced.
 */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : redactSecrets(v)]),
    );
  }
  return value;
}
