import fc from 'fast-check';
import { isDriverError } from '@nova-common/core';

/** One plug property's verdict: what it checks, the semantics cell or rule it holds the plug to, and why it failed. */
export interface PlugPropertyResult {
  id: string;
  title: string;
  /** The cell of the plug semantics table (e.g. `plug/PLUGGED`) or the general rule it checks. */
  rule: string;
  passed: boolean;
  /** On failure: what was expected and what happened, with the steps that led there. */
  detail?: string;
}

export interface PlugRunResult {
  plugin: string;
  kind: 'vif' | 'volume';
  /** What the plug declares it takes: VIF types (a VIF plugin) or transports (a volume connector). */
  accepts: string[];
  passed: boolean;
  properties: PlugPropertyResult[];
}

/** A failed expectation inside a plug property: its message is the property's failure detail. */
export class PlugViolation extends Error {}

export function expect(condition: boolean, message: string): asserts condition {
  if (!condition) throw new PlugViolation(message);
}

/** Run `call` and require it to fail with `code` (and, for INVALID_INPUT, an issue at `path`). */
export async function expectError(what: string, call: () => Promise<unknown>, code: string, path?: readonly string[]): Promise<void> {
  let outcome: unknown;
  try {
    await call();
  } catch (error) {
    outcome = error;
  }
  if (outcome === undefined) throw new PlugViolation(`${what}: succeeded, expected ${code}`);
  if (!isDriverError(outcome)) throw new PlugViolation(`${what}: threw a non-contract error (${String(outcome)}), expected ${code}`);
  if (outcome.code !== code) throw new PlugViolation(`${what}: ${outcome.code} (${outcome.message}), expected ${code}`);
  if (path !== undefined && !(outcome.issues ?? []).some((i) => i.path.join('.') === path.join('.'))) {
    throw new PlugViolation(`${what}: ${code} without an issue naming ${path.join('.')} (${outcome.message})`);
  }
}

/** Run the properties one after another; a property's error is its failure, never the run's. */
export async function runPlugProperties(
  plugin: string,
  kind: PlugRunResult['kind'],
  accepts: readonly string[],
  properties: { id: string; title: string; rule: string; check: () => Promise<void> }[],
  after: () => Promise<void>,
): Promise<PlugRunResult> {
  const results: PlugPropertyResult[] = [];
  for (const p of properties) {
    try {
      await p.check();
      results.push({ id: p.id, title: p.title, rule: p.rule, passed: true });
    } catch (error) {
      const detail = error instanceof PlugViolation ? error.message : `the property broke: ${error instanceof Error ? error.message : String(error)}`;
      results.push({ id: p.id, title: p.title, rule: p.rule, passed: false, detail });
    } finally {
      await after();
    }
  }
  return { plugin, kind, accepts: [...accepts], passed: results.every((r) => r.passed), properties: results };
}

export const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
export const diff = (before: readonly string[], after: readonly string[]): string =>
  `added [${after.filter((x) => !before.includes(x)).join(', ')}], removed [${before.filter((x) => !after.includes(x)).join(', ')}]`;

/** Run a model-based plug property (fast-check); a failure is the property's, with its seed and shrunk sequence. */
export async function checkModel<T>(property: fc.IAsyncPropertyWithHooks<[T]>, options: { runs?: number; seed?: number }): Promise<void> {
  const out = await fc.check(property, { numRuns: options.runs ?? 8, ...(options.seed === undefined ? {} : { seed: options.seed }) });
  if (out.failed) {
    const cause = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
    expect(false, `${cause} (seed ${out.seed}, shrunk counterexample ${JSON.stringify(out.counterexample?.[0])})`);
  }
}
