import { driverArgs, shellCommand } from './shell.js';
import type { Counterexample, DifferentialResult, PropertyResult, RunResult } from '../result.js';
import { escapeXmlAttr as attr, escapeXmlText as text } from './escape.js';

export interface JunitOptions {
  /** A differential run made together with this one: one more test case, failed on divergence. */
  differential?: DifferentialResult;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

/**
 * The run as JUnit XML, the format CI systems read: one <testsuite> per driver, one
 * <testcase> per property; a failure carries the rule, seed, replay path and the shrunk
 * counterexample as a runnable program in its body. Every string is escaped (escape.ts).
 */
export function toJunitXml(result: RunResult, options: JunitOptions = {}): string {
  const cases = result.properties.map((p) => testcase(result, p));
  let tests = result.properties.length;
  let failures = result.summary.failed;
  const skipped = result.summary.skipped;
  const diff = options.differential;
  if (diff !== undefined) {
    cases.push(differentialCase(result, diff));
    tests += 1;
    if (diff.divergence !== undefined) failures += 1;
  }
  const suiteName = `nova-conformance ${result.driver.name}@${result.driver.version}`;
  const props: [string, string][] = [
    ['suiteVersion', result.suiteVersion],
    ['contractVersion', result.contractVersion],
    ['driver', result.driver.name],
    ['driverVersion', result.driver.version],
    ['seed', String(result.seed)],
    ['runId', result.runId],
    ['runs', String(result.options.runs)],
    ['steps', String(result.options.steps)],
    ['profiles', result.options.profiles === 'all' ? 'all' : result.options.profiles.join(',')],
    ...(result.coverage === undefined
      ? []
      : ([
          ['cellsReached', String(result.coverage.cellsReached)],
          ['cellsReachable', String(result.coverage.cellsReachable)],
          ['cellsMissing', result.coverage.missing.map((m) => `${m.state}/${m.column}`).join(' ')],
        ] as [string, string][])),
    ['node', result.environment.node],
    ['platform', `${result.environment.platform}-${result.environment.arch}`],
  ];
  const counts = `tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(result.durationMs)}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="nova-conformance" ${counts}>`,
    `  <testsuite name="${attr(suiteName)}" ${counts} timestamp="${attr(result.startedAt)}" hostname="${attr(result.environment.hostname)}">`,
    '    <properties>',
    ...props.map(([k, v]) => `      <property name="${attr(k)}" value="${attr(v)}"/>`),
    '    </properties>',
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

function testcase(result: RunResult, p: PropertyResult): string {
  const head = `    <testcase classname="${attr(`nova-conformance.${result.driver.name}`)}" name="${attr(`${p.id}: ${p.title}`)}" time="${seconds(p.durationMs)}"`;
  if (p.status === 'skipped') return `${head}>\n      <skipped message="${attr(p.reason ?? 'skipped')}"/>\n    </testcase>`;
  if (p.status === 'passed') return `${head}/>`;
  const cx = p.counterexample;
  const message = cx === undefined ? 'property failed' : `${cx.rule === undefined ? '' : `${cx.rule}: `}${cx.message}`;
  const type = cx?.rule ?? 'PropertyFailed';
  return `${head}>\n      <failure message="${attr(message)}" type="${attr(type)}">${text(failureBody(p, cx, result.driver.name))}</failure>\n    </testcase>`;
}

/**
 * The failure body: everything needed to reproduce, then the program to paste into a test.
 * `driver` is the driver's specifier, or the whole `--driver … [--config …]` argument list
 * the run was given (see driverArgs), for the replay command line.
 */
export function failureBody(p: PropertyResult, cx: Counterexample | undefined, driver: string | readonly string[] = '<driver>'): string {
  if (cx === undefined) return `${p.id} failed without a counterexample.\n`;
  const lines = [
    `${p.id} failed${cx.rule === undefined ? '' : ` (rule ${cx.rule})`}: ${cx.message}`,
    `seed: ${cx.seed}`,
    `path: ${cx.path}`,
  ];
  if (cx.replayFile !== undefined) {
    lines.push(`replay file: ${cx.replayFile}`);
    const named = typeof driver === 'string' ? driverArgs(driver) : driver;
    lines.push(`replay with: ${shellCommand(['nova-conformance', 'run', ...named, '--replay', cx.replayFile])}`);
  }
  lines.push('', `shrunk steps (${cx.steps.length}):`);
  cx.steps.forEach((s, i) => lines.push(`  ${i + 1}. ${formatStep(s)}`));
  lines.push('', 'program:', cx.program, '');
  return lines.join('\n');
}

function formatStep(s: Counterexample['steps'][number]): string {
  let line = `${s.op}(${s.args.map((a) => JSON.stringify(a) ?? 'undefined').join(', ')})`;
  if (s.expected !== undefined) line += ` expected ${s.expected.ok ? 'ok' : s.expected.error}`;
  if (s.actual !== undefined) line += `, got ${s.actual.ok ? 'ok' : `${s.actual.error}${s.actual.message === undefined ? '' : ` (${s.actual.message})`}`}`;
  return line;
}

function differentialCase(result: RunResult, d: DifferentialResult): string {
  const head = `    <testcase classname="${attr(`nova-conformance.${result.driver.name}`)}" name="${attr(`P-DIFFERENTIAL: ${d.drivers.join(' vs ')}`)}" time="${seconds(d.durationMs)}"`;
  const v = d.divergence;
  if (v === undefined) return `${head}/>`;
  const body = [
    `drivers diverge at step ${v.stepIndex}: ${formatStep(v.step)}`,
    `seed: ${v.seed}`,
    'outcomes:',
    ...Object.entries(v.outcomes).map(([name, o]) => `  ${name}: ${JSON.stringify(o)}`),
    '',
    'program:',
    v.program,
    '',
  ].join('\n');
  return `${head}>\n      <failure message="${attr(`drivers diverge at step ${v.stepIndex} (${v.step.op})`)}" type="Divergence">${text(body)}</failure>\n    </testcase>`;
}

export { formatStep };
