import type { RuleId } from '@nova-common/core';
import type { DifferentialResult, PropertyResult, RunResult, StepRecord } from '../result.js';
import { failureBody, formatStep } from './junit.js';
import { computeSupportMatrix, evidenceSummary, type MatrixOptions, type MatrixSource } from './matrix.js';
import { coverageLine } from '../coverage/result.js';

export interface TerminalOptions {
  /** ANSI colours (the CLI turns them on for a TTY without NO_COLOR). */
  color?: boolean;
  /** Print the support matrix table (default true). */
  matrix?: boolean;
  /** A differential run made together with this one. */
  differential?: DifferentialResult;
  /** How to name the driver in the replay command line printed on failure (default: the driver's name). */
  driverSpecifier?: string;
  /**
   * The driver arguments of the replay command line, when the run was given more than a
   * specifier (`['--driver', './drv', '--config', '/abs/c.json']`); wins over driverSpecifier.
   */
  driverArgs?: readonly string[];
}

/**
 * Control characters a driver's message could carry (ANSI escapes that move the cursor or
 * rewrite the screen) are shown as \xNN; TAB and LF stay.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;
export function printable(value: string): string {
  return value.replace(CONTROL, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const paint = (on: boolean, code: string, s: string): string => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

/**
 * A compact text summary of a run: one line per property, the support matrix as a plain
 * table, and for each failure everything needed to reproduce it: seed, path, rule, the
 * shrunk steps, the runnable program and the replay file.
 */
export function toTerminalSummary(result: RunResult, options: TerminalOptions = {}): string {
  const color = options.color ?? false;
  const out: string[] = [];
  out.push(
    printable(`nova-conformance ${result.suiteVersion} | contract ${result.contractVersion} | driver ${result.driver.name} ${result.driver.version}`),
    printable(
      `seed ${result.seed} | run id ${result.runId} | ${result.options.runs} runs x ${result.options.steps} steps | profiles ${result.options.profiles === 'all' ? 'all' : result.options.profiles.join(',')}`,
    ),
    '',
  );
  const idWidth = Math.max(0, ...result.properties.map((p) => p.id.length));
  for (const p of result.properties) out.push(propertyLine(p, idWidth, color));

  if (options.matrix ?? true) out.push('', toMatrixText([result]));

  const failed = result.properties.filter((p) => p.status === 'failed');
  for (const p of failed) {
    out.push('', paint(color, '1;31', printable(`FAILED ${p.id}: ${p.title}`)));
    out.push(...indent(printable(failureBody(p, p.counterexample, options.driverArgs ?? options.driverSpecifier ?? result.driver.name)).trimEnd()));
  }

  const d = options.differential;
  if (d !== undefined) {
    out.push('', printable(`differential ${d.drivers.join(' vs ')}: ${d.runs} runs x ${d.steps} steps, seed ${d.seed}`));
    if (d.divergence === undefined) out.push(paint(color, '32', '  no divergence'));
    else {
      const v = d.divergence;
      out.push(paint(color, '1;31', printable(`  DIVERGED at step ${v.stepIndex}: ${formatStep(v.step)}`)));
      for (const [name, o] of Object.entries(v.outcomes)) out.push(printable(`    ${name}: ${JSON.stringify(o)}`));
      out.push('  program:', ...indent(printable(v.program), '    '));
    }
  }

  const s = result.summary;
  const verdict = s.failed > 0 || d?.divergence !== undefined ? paint(color, '1;31', 'FAIL') : paint(color, '1;32', 'PASS');
  const work = result.stats === undefined ? '' : ` (${result.stats.steps} model steps, ${result.stats.calls} driver calls)`;
  out.push('');
  if (result.coverage !== undefined) {
    const c = result.coverage;
    out.push(paint(color, c.missing.length === 0 ? '32' : '33', printable(coverageLine(c))));
  }
  out.push(`${verdict} ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped in ${duration(result.durationMs)}${work}`);
  return `${out.join('\n')}\n`;
}

function propertyLine(p: PropertyResult, idWidth: number, color: boolean): string {
  if (p.status === 'skipped') return `  ${paint(color, '33', 'skip')} ${printable(`${p.id.padEnd(idWidth)}  ${p.reason ?? 'no reason given'}`)}`;
  const mark = p.status === 'passed' ? paint(color, '32', 'pass') : paint(color, '1;31', 'FAIL');
  const detail = `${plural(p.runs, 'run')}, ${plural(p.steps, 'step')}, ${duration(p.durationMs)}`;
  return `  ${mark} ${printable(`${p.id.padEnd(idWidth)}  ${p.title} (${detail})`)}`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function indent(block: string, prefix = '  '): string[] {
  return block.split('\n').map((l) => (l === '' ? '' : `${prefix}${l}`));
}

/**
 * The support matrix as a plain-text table (no colours, no box drawing): a profile
 * heading line, then one line per capability with one column per driver.
 */
export function toMatrixText(sources: readonly MatrixSource[], options: MatrixOptions = {}): string {
  const m = computeSupportMatrix(sources, options);
  const header = ['Capability', 'Id', ...m.columns.map((c) => c.label)];
  const rows: string[][] = [];
  for (const g of m.groups) {
    rows.push([`[${g.profile}]`, '', ...g.supported.map((s) => (s === undefined ? '' : s ? 'profile supported' : 'profile not supported'))]);
    for (const r of g.rows) {
      rows.push([
        r.title,
        r.id,
        ...r.cells.map((c) => {
          const ev = evidenceSummary(c);
          return ev === '' ? c.status : `${c.status} (${ev})`;
        }),
      ]);
    }
  }
  const all = [header, ...rows].map((r) => r.map(printable));
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(all[0] ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

/** What a replay reports (the engine's ReplayResult). */
interface ReplaySummaryInput {
  ok: boolean;
  steps: StepRecord[];
  failure?: { property: string; rule: RuleId; message: string } | undefined;
  program: string;
}

/** The outcome of `run --replay <file>`: the steps as re-run, the verdict and the program. */
export function toReplaySummary(replay: ReplaySummaryInput, file: string, options: { color?: boolean } = {}): string {
  const color = options.color ?? false;
  const out: string[] = [printable(`replay of ${file}: ${replay.steps.length} steps`)];
  replay.steps.forEach((s, i) => out.push(printable(`  ${i + 1}. ${formatStep(s)}`)));
  out.push('', 'program:', ...indent(printable(replay.program)));
  const f = replay.failure;
  out.push(
    '',
    f === undefined
      ? `${paint(color, '1;32', 'PASS')} the replayed sequence now passes`
      : `${paint(color, '1;31', 'FAIL')} ${printable(`${f.property} (rule ${f.rule}): ${f.message}`)}`,
  );
  return `${out.join('\n')}\n`;
}
