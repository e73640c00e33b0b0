import { redactSecrets } from '../report/json.js';
import type { JsonReport } from '../report/json-schema.js';
import { shellCommand } from '../report/shell.js';
import type { LoadedReport } from './load.js';
import { slug } from './slug.js';

type Property = JsonReport['properties'][number];

/** A failed property of a run, with what the site offers to reproduce it. */
export interface SiteFailure {
  property: Property;
  /** The element id of the failure on its run page. */
  anchor: string;
  /** The replay file the site writes (path relative to the site root), when the failure has one. */
  replayPath?: string;
  /** The replay file's content, driver configuration secrets redacted. */
  replay?: unknown;
  /** The command that re-runs the failing case from the downloaded replay file. */
  replayCommand?: string;
  /** The command that re-runs the whole run with the same seed and options. */
  rerunCommand: string;
}

/** One report, as a run of the site. */
export interface SiteRun {
  /** File name of its page under runs/, without `.html`. */
  slug: string;
  file: string;
  report: JsonReport;
  /** startedAt in ms since the epoch; -Infinity when it is not a date. */
  startedMs: number;
  /** The driver + backend key of the run (see targetKey). */
  target: string;
  failures: SiteFailure[];
}

/** A driver on a backend: the rows of the support matrix. */
export interface SiteTarget {
  key: string;
  driver: string;
  /** The run label (`--label`): the backend and host, when the runs had one. */
  backend: string | undefined;
  /** Newest first. */
  runs: SiteRun[];
  latest: SiteRun;
}

export interface SiteDriver {
  name: string;
  /** File name of its page under drivers/, without `.html`. */
  slug: string;
  targets: SiteTarget[];
  /** Every run of the driver on any backend, newest first. */
  runs: SiteRun[];
}

export interface SiteModel {
  title: string;
  generatedAt: string;
  drivers: SiteDriver[];
  /** Sorted by driver name, then backend. */
  targets: SiteTarget[];
  runs: SiteRun[];
}

export interface SiteOptions {
  title?: string;
  /** ISO timestamp printed as "generated at"; defaults to now. */
  generatedAt?: string;
}

/** The driver + backend a report is about: driver name and run label. */
export function targetKey(report: JsonReport): string {
  return JSON.stringify([report.driver.name, report.driver.label ?? null]);
}

const startedMs = (r: JsonReport): number => {
  const ms = Date.parse(r.startedAt);
  return Number.isNaN(ms) ? -Infinity : ms;
};

/** Newest first; equal start times by run id, so the order never depends on input order. */
export function newestFirst(a: SiteRun, b: SiteRun): number {
  if (a.startedMs !== b.startedMs) return b.startedMs > a.startedMs ? 1 : -1;
  return a.report.runId < b.report.runId ? 1 : a.report.runId > b.report.runId ? -1 : 0;
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Group reports into the site: runs (one per report; a report given twice, same driver, label,
 * run id and start, counts once), driver + backend targets with their latest run, and drivers
 * with their history.
 */
export function buildSiteModel(loaded: readonly LoadedReport[], options: SiteOptions = {}): SiteModel {
  const runs = new Map<string, SiteRun>();
  for (const { file, report } of loaded) {
    const d = report.driver;
    const runSlug = slug(d.name, d.label ?? '', report.runId, report.startedAt);
    if (runs.has(runSlug)) continue;
    runs.set(runSlug, { slug: runSlug, file, report, startedMs: startedMs(report), target: targetKey(report), failures: failuresOf(report, runSlug) });
  }
  const all = [...runs.values()].sort(newestFirst);

  const targets = new Map<string, SiteTarget>();
  for (const run of all) {
    const t = targets.get(run.target);
    if (t === undefined) {
      targets.set(run.target, { key: run.target, driver: run.report.driver.name, backend: run.report.driver.label, runs: [run], latest: run });
    } else t.runs.push(run);
  }
  const sortedTargets = [...targets.values()].sort((a, b) => byText(a.driver, b.driver) || byText(a.backend ?? '', b.backend ?? ''));

  const drivers = new Map<string, SiteDriver>();
  for (const t of sortedTargets) {
    const d = drivers.get(t.driver) ?? { name: t.driver, slug: slug(t.driver), targets: [], runs: [] };
    d.targets.push(t);
    drivers.set(t.driver, d);
  }
  for (const d of drivers.values()) d.runs = d.targets.flatMap((t) => t.runs).sort(newestFirst);

  return {
    title: options.title ?? 'Conformance results',
    generatedAt: options.generatedAt ?? new Date().toISOString(),
    drivers: [...drivers.values()],
    targets: sortedTargets,
    runs: all,
  };
}

function failuresOf(report: JsonReport, runSlug: string): SiteFailure[] {
  return report.properties
    .filter((p) => p.status === 'failed')
    .map((property): SiteFailure => {
      const anchor = `failure-${slug(property.id)}`;
      const rerunCommand = shellCommand(rerunArgs(report, driverSpecifier(report)));
      const cx = property.counterexample;
      if (cx?.replay === undefined) return { property, anchor, rerunCommand };
      const replayPath = `replays/${runSlug}/${slug(property.id)}.json`;
      const replay = { ...cx.replay, ...(cx.replay.driver === undefined ? {} : { driver: redactSecrets(cx.replay.driver) }) };
      const replayCommand = shellCommand(['nova-conformance', 'run', '--driver', cx.replay.driver?.module ?? driverSpecifier(report), '--replay', replayPath.slice(replayPath.lastIndexOf('/') + 1)]);
      return { property, anchor, replayPath, replay, replayCommand, rerunCommand };
    });
}

/** How the run loaded its driver (a package name or module path, from its replay documents), else the driver's name. */
function driverSpecifier(report: JsonReport): string {
  for (const p of report.properties) {
    const module = p.counterexample?.replay?.driver?.module;
    if (module !== undefined && module !== '') return module;
  }
  return report.driver.name;
}

/** `nova-conformance run` with the report's driver, seed and options: the same cases again. */
function rerunArgs(report: JsonReport, driver: string): string[] {
  const o = report.options;
  // `--seed=<n>`: a negative seed as a separate argument would read as an option.
  const args = ['nova-conformance', 'run', '--driver', driver, `--seed=${report.seed}`, '--runs', String(o.runs), '--steps', String(o.steps)];
  args.push('--max-instances', String(o.maxInstances));
  if (o.profiles !== 'all') args.push('--profile', ...o.profiles);
  return args;
}

/** True when the run used a driver configuration with something in it (a replay needs it again as --config). */
export function hasConfig(report: JsonReport): boolean {
  const c = report.driver.config;
  return c !== undefined && c !== null && !(typeof c === 'object' && Object.keys(c).length === 0);
}
