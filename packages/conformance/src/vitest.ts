// `@nova-common/conformance/vitest`: the suite as vitest tests, one `it` per property.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ComputeDriver } from '@nova-common/core';
import { type ConformanceOptions, type DriverFactory, type DriverIdentity } from './config.js';
import type { Counterexample, DifferentialResult, PropertyResult, RunResult } from './result.js';
import { runConformance } from './run/run-conformance.js';
import { runDifferential } from './differential/run-differential.js';
import { coverageLine } from './coverage/result.js';
import { citedRules, type PropertyDefinition } from './properties/catalog.js';
import { plannedDefinitions } from './run/plan-driver.js';

export type DescribeOptions = ConformanceOptions &
  DriverIdentity & {
    /** Timeout of the whole run (vitest hook timeout), in ms. Default 10 minutes. */
    timeoutMs?: number;
  };

/** The failure message of a property: seed, path, rule, the shrunk steps and the program. */
export function formatCounterexample(property: Pick<PropertyResult, 'id' | 'title'>, cx: Counterexample): string {
  const lines = [
    `${property.id} failed: ${property.title}`,
    `rule: ${cx.rule ?? '-'}`,
    `seed: ${cx.seed}${cx.path ? `, path: ${JSON.stringify(cx.path)}` : ''}  (re-run with { seed: ${cx.seed}${cx.path ? `, path: ${JSON.stringify(cx.path)}` : ''} })`,
    cx.message,
    '',
    `shrunk sequence (${cx.steps.length} steps):`,
    ...cx.steps.map((s, i) => {
      const exp = s.expected ? (s.expected.ok ? 'ok' : s.expected.error) : '?';
      const act = s.actual ? (s.actual.ok ? 'ok' : s.actual.error) : '?';
      return `  ${i + 1}. ${s.op}(${s.args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a)).slice(0, 60)).join(', ')})  expected ${exp}, got ${act}`;
    }),
    ...(cx.replayFile ? ['', `replay file: ${cx.replayFile}`] : []),
    '',
    'as a program:',
    cx.program,
  ];
  return lines.join('\n');
}

/** A property's test name: its id, its title and the rules it cites (`P-EVENTS: ... [R-EVENT-TRANSITION]`). */
export function testName(def: Pick<PropertyDefinition, 'id' | 'title' | 'rules'>): string {
  return `${def.id}: ${def.title} [${citedRules(def.rules)}]`;
}

/**
 * Describe the conformance suite for a driver: one vitest test per applicable property,
 * named `P-ID: title [R-..., R-...]` (the properties for capabilities the driver does not
 * declare are not listed). The whole run happens once, before the tests; each test then
 * reports its property, and a failure's message carries the seed, path, rule, shrunk steps
 * and a runnable program.
 *
 * `factory` returns an unconnected raw driver; the suite calls initHost/cleanupHost and
 * wraps it in the guard itself. Capabilities are read once at collection time.
 */
export function describeConformance(name: string, factory: DriverFactory, options: DescribeOptions = {}): void {
  const timeout = options.timeoutMs ?? 600_000;
  describe(`conformance: ${name}`, async () => {
    let defs: PropertyDefinition[];
    try {
      defs = await plannedDefinitions(factory, options);
    } catch (planError) {
      // The driver could not even be connected: one test that fails loudly with the reason.
      it('connects to the driver and reads its capabilities', () => {
        throw new Error(`conformance: ${name}: could not create/connect the driver to plan the properties: ${planError instanceof Error ? planError.message : String(planError)}`, { cause: planError });
      });
      return;
    }
    let result: RunResult | undefined;
    let error: unknown;
    beforeAll(async () => {
      try {
        result = await runConformance({ name, ...options, driver: factory });
        // The run's figures, in the test log: how far it reached into the semantics table.
        if (result.coverage !== undefined) console.info(`conformance: ${name}: ${coverageLine(result.coverage, Number.POSITIVE_INFINITY)}`);
      } catch (e) {
        error = e;
      }
    }, timeout);
    for (const { id, ...def } of defs) {
      it(testName({ id, ...def }), () => {
        if (error !== undefined) throw error;
        const p = result?.properties.find((x) => x.id === id);
        expect(p, `property ${id} was not run`).toBeDefined();
        if (p!.status === 'failed') throw new Error(formatCounterexample(p!, p!.counterexample!));
        expect(p!.status, p!.reason).not.toBe('failed');
      });
    }
  });
}

/**
 * Describe a differential run: the same generated sequences against every driver in
 * lockstep; the test fails with the first step where their observable outcomes differ.
 */
export function describeDifferential(name: string, factories: Record<string, DriverFactory | ComputeDriver>, options: DescribeOptions = {}): void {
  const timeout = options.timeoutMs ?? 600_000;
  describe(`differential: ${name}`, () => {
    it(
      `${Object.keys(factories).join(' = ')}`,
      async () => {
        const result: DifferentialResult = await runDifferential({ ...options, drivers: factories });
        const d = result.divergence;
        if (d) {
          throw new Error(
            [
              `drivers diverge at step ${d.stepIndex + 1} (${d.step.op}), seed ${d.seed}${d.path ? `, path ${JSON.stringify(d.path)}` : ''}`,
              ...Object.entries(d.outcomes).map(([n, o]) => `  ${n}: ${JSON.stringify(o)}`),
              '',
              d.program,
            ].join('\n'),
          );
        }
        expect(result.steps).toBeGreaterThan(0);
      },
      timeout,
    );
  });
}
