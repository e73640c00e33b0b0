import { describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SEMANTICS, SEMANTICS_1_0, TABLE_OPERATIONS, type CapabilityId, type DriverCapabilities } from '@nova-common/core';
import { createReferenceDriver } from '@nova-common/core/testing';
import { resolveOptions } from '../../src/config.js';
import { checkBudget, formatBudget, parseBudget } from '../../src/coverage/budget.js';
import { reachableCells, reachableStates } from '../../src/coverage/cells.js';
import { pathTo } from '../../src/coverage/steer.js';
import { CoverageTracker } from '../../src/coverage/tracker.js';
import { commandScope } from '../../src/run/scope.js';
import type { JsonReport } from '../../src/report/json-schema.js';
import { formatJsonReport, parseJsonReport } from '../../src/report/json.js';
import { toJunitXml } from '../../src/report/junit.js';
import { toMatrixMarkdown } from '../../src/report/matrix-markdown.js';
import { toTerminalSummary } from '../../src/report/terminal.js';
import type { CoverageResult, RunResult } from '../../src/result.js';
import { loadFixture } from '../report/load-fixtures.js';
import { runCli } from '../cli/run-main.js';

// Compile-time: CoverageResult and the report schema's coverage have the same keys.
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : { onlyInResult: Exclude<keyof A, keyof B>; onlyInSchema: Exclude<keyof B, keyof A> };
export const sameKeys: SameKeys<CoverageResult, NonNullable<JsonReport['coverage']>> = true;

describe('budget', () => {
  it('reads steps and durations', () => {
    expect(parseBudget('5000steps')).toEqual({ steps: 5000 });
    expect(parseBudget('1step')).toEqual({ steps: 1 });
    expect(parseBudget('60s')).toEqual({ ms: 60_000 });
    expect(parseBudget('500ms')).toEqual({ ms: 500 });
    expect(parseBudget('2m')).toEqual({ ms: 120_000 });
    expect(formatBudget({ ms: 60_000 })).toBe('60s');
    expect(formatBudget({ ms: 1500 })).toBe('1500ms');
    expect(formatBudget({ steps: 7 })).toBe('7 steps');
  });

  it.each(['', '60', 'sixty s', '-5s', '1.5s', '10h', '5 000steps'])('refuses %j, naming the field', (text) => {
    expect(() => parseBudget(text)).toThrow(RangeError);
    expect(() => parseBudget(text)).toThrow(/^budget must be/);
  });

  it('options take text or an object; the default is runs x steps model steps', () => {
    expect(resolveOptions({}).budget).toEqual({ steps: 20 * 25 });
    expect(resolveOptions({ runs: 4, steps: 8 }).budget).toEqual({ steps: 32 });
    expect(resolveOptions({ budget: '90s' }).budget).toEqual({ ms: 90_000 });
    expect(resolveOptions({ budget: { steps: 12 } }).budget).toEqual({ steps: 12 });
    expect(checkBudget({ ms: 0 })).toEqual({ ms: 0 });
    expect(() => resolveOptions({ budget: { steps: -1 } })).toThrow(/budget must be/);
    expect(() => resolveOptions({ budget: { steps: 1, ms: 1 } as never })).toThrow(/budget must be/);
    expect(() => resolveOptions({ budget: 'soon' })).toThrow(/budget must be/);
  });

  it('the CLI refuses a bad --budget as a usage error naming the flag (exit 2)', async () => {
    const r = await runCli(['run', '--driver', 'reference', '--budget', 'forever']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--budget must be');
  });
});

describe('reachable cells', () => {
  const caps = async (disabled: CapabilityId[] = []): Promise<DriverCapabilities> => createReferenceDriver({ disabledCapabilities: disabled }).getCapabilities();
  const scopeOf = async (disabled: CapabilityId[], hooks: { crash: boolean; noState: boolean }, options = resolveOptions({})) =>
    commandScope(await caps(disabled), options, hooks);

  it('every row with both hooks and everything declared; CRASHED and NOSTATE only with their hook', async () => {
    expect([...reachableStates(await scopeOf([], { crash: true, noState: true }), SEMANTICS)].sort()).toEqual(
      ['ABSENT', 'CRASHED', 'NOSTATE', 'PAUSED', 'RESCUE', 'RUNNING', 'SHUTDOWN', 'SUSPENDED'],
    );
    const crashOnly = reachableStates(await scopeOf([], { crash: true, noState: false }), SEMANTICS);
    expect(crashOnly.has('CRASHED')).toBe(true);
    expect(crashOnly.has('NOSTATE')).toBe(false);
    expect(reachableCells(await scopeOf([], { crash: false, noState: false }), SEMANTICS)).toHaveLength(6 * TABLE_OPERATIONS.length);
  });

  it('a row needs a declared capability that leads there; a column needs its own and its column capability', async () => {
    const scope = await scopeOf(['operation.suspend', 'operation.rescue'], { crash: false, noState: false });
    const cells = reachableCells(scope, SEMANTICS);
    const rows = new Set(cells.map((c) => c.state));
    expect(rows.has('SUSPENDED')).toBe(false);
    expect(rows.has('RESCUE')).toBe(false);
    expect(rows.has('PAUSED')).toBe(true);
    const columns = new Set(cells.map((c) => c.column));
    for (const gone of ['suspend', 'rescue', 'restoreStateSuspended'] as const) expect(columns.has(gone)).toBe(false);
    expect(columns.has('resume')).toBe(true);
    expect(columns.has('restoreStatePaused')).toBe(true);
  });

  it('the profile filter and the volumes the run can give narrow the columns', async () => {
    const onlyCore = reachableCells(await scopeOf([], { crash: false, noState: false }, resolveOptions({ profiles: ['core'] })), SEMANTICS);
    const all = reachableCells(await scopeOf([], { crash: false, noState: false }), SEMANTICS);
    expect(onlyCore.length).toBeLessThan(all.length);
    expect(onlyCore.some((c) => c.column === 'attachVolume')).toBe(false);
  });

  it('paths follow the table a driver is held to', async () => {
    const scope = await scopeOf([], { crash: true, noState: false });
    const columns = TABLE_OPERATIONS.filter((c) => c !== 'spawn');
    expect(pathTo('RUNNING', 'RESCUE', columns, scope, SEMANTICS)).toEqual(['rescue']);
    expect(pathTo('RUNNING', 'CRASHED', columns, scope, SEMANTICS)).toEqual(['simulateCrash']);
    expect(pathTo('RUNNING', 'NOSTATE', columns, scope, SEMANTICS)).toBeUndefined();
    // A soft reboot took a paused instance to RUNNING in contract 1.0; since 1.1 it is refused.
    const noHooks = { simulate: { crash: false, noState: false } };
    expect(pathTo('PAUSED', 'RUNNING', ['rebootSoft'], noHooks, SEMANTICS_1_0)).toEqual(['rebootSoft']);
    expect(pathTo('PAUSED', 'RUNNING', ['rebootSoft'], noHooks, SEMANTICS)).toBeUndefined();
  });
});

describe('the tracker', () => {
  it('counts reachable cells once, names the missing ones in table order, and keeps error paths per operation', () => {
    const t = new CoverageTracker([
      { state: 'ABSENT', column: 'spawn' },
      { state: 'RUNNING', column: 'pause' },
      { state: 'PAUSED', column: 'pause' },
    ]);
    t.hitCell('RUNNING', 'pause');
    t.hitCell('RUNNING', 'pause');
    t.hitCell('SHUTDOWN', 'pause'); // not reachable: counted, not reached
    t.hitError('pause', 'INVALID_STATE');
    t.hitError('pause', 'INVALID_STATE');
    t.hitError('destroy', 'INSTANCE_NOT_FOUND');
    expect(t.count('RUNNING', 'pause')).toBe(2);
    expect(t.complete).toBe(false);
    expect(t.report()).toEqual({
      cellsReached: 1,
      cellsReachable: 3,
      missing: [{ state: 'ABSENT', column: 'spawn' }, { state: 'PAUSED', column: 'pause' }],
      errorPaths: { destroy: { INSTANCE_NOT_FOUND: 1 }, pause: { INVALID_STATE: 2 } },
    });
  });
});

describe('reports carry the coverage', () => {
  const coverage: CoverageResult = {
    cellsReached: 198,
    cellsReachable: 200,
    missing: [{ state: 'PAUSED', column: 'spawn' }, { state: 'RESCUE', column: 'spawn' }],
    errorPaths: { pause: { INVALID_STATE: 12, INSTANCE_NOT_FOUND: 2 }, spawn: { INSTANCE_EXISTS: 3 } },
    steeredRuns: 4,
    budget: '500 steps',
  };
  const result: RunResult = { ...loadFixture('reference-pass'), coverage };
  const schema = JSON.parse(readFileSync(fileURLToPath(new URL('../../schemas/report.schema.json', import.meta.url)), 'utf8')) as object;

  it('the JSON report validates against the shipped schema and reads back with it', () => {
    const text = formatJsonReport(result);
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
    expect(validate(JSON.parse(text))).toBe(true);
    expect(parseJsonReport(text).coverage).toEqual(coverage);
    const bad = JSON.parse(text) as { coverage: { cellsReached: unknown } };
    bad.coverage.cellsReached = -1;
    expect(validate(bad)).toBe(false);
    expect(validate.errors?.some((e) => e.instancePath === '/coverage/cellsReached')).toBe(true);
  });

  it('the terminal summary has the cells line, naming what is missing', () => {
    const text = toTerminalSummary(result, { matrix: false });
    expect(text).toContain('cells 198/200 reached, 3 error paths, 4 steered sequences (budget 500 steps); missing PAUSED/spawn, RESCUE/spawn');
    const complete = toTerminalSummary({ ...result, coverage: { ...coverage, cellsReached: 200, missing: [], steeredRuns: 0 } }, { matrix: false });
    expect(complete).toMatch(/^cells 200\/200 reached, 3 error paths$/m);
    expect(toTerminalSummary(loadFixture('reference-pass'), { matrix: false })).not.toMatch(/^cells /m);
  });

  it('JUnit carries the figures as suite properties', () => {
    const xml = toJunitXml(result);
    expect(xml).toContain('<property name="cellsReached" value="198"/>');
    expect(xml).toContain('<property name="cellsReachable" value="200"/>');
    expect(xml).toContain('<property name="cellsMissing" value="PAUSED/spawn RESCUE/spawn"/>');
  });

  it('the Markdown matrix has a coverage table per run, and none for reports without coverage', () => {
    const md = toMatrixMarkdown([result, loadFixture('libvirt-failure')], { generatedAt: '2026-01-01T00:00:00Z' });
    expect(md).toContain('| Driver | Cells reached | Missing cells | Error paths |');
    // Underscores are escaped: Markdown would read them as emphasis.
    expect(md).toContain('| 198/200 | PAUSED/spawn, RESCUE/spawn | pause: INVALID\\_STATE, INSTANCE\\_NOT\\_FOUND<br>spawn: INSTANCE\\_EXISTS |');
    expect(md).toMatch(/\| not reported \| \| \|/);
    expect(toMatrixMarkdown([loadFixture('reference-pass')])).not.toContain('Cells reached');
  });
});

