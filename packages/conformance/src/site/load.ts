import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidReportError, parseJsonReport } from '../report/json.js';
import type { JsonReport } from '../report/json-schema.js';

/** A report read from a file, with where it came from. */
export interface LoadedReport {
  /** The absolute path of the file. */
  file: string;
  report: JsonReport;
}

/** A file the site could not use: which file, and per field what is wrong. */
export interface ReportProblem {
  file: string;
  issues: { path: string; message: string }[];
}

export interface LoadResult {
  reports: LoadedReport[];
  problems: ReportProblem[];
}

/** Thrown for an input that is neither a readable file nor a directory. */
export class SiteInputError extends Error {
  override readonly name = 'SiteInputError';
}

/**
 * The report files named by the inputs: a file is itself; a directory is every `*.json` file
 * under it, recursively (entries whose name starts with `.` and `node_modules` are left out;
 * symbolic links to directories are not followed). Sorted, without duplicates.
 */
export async function collectReportFiles(inputs: readonly string[], cwd: string): Promise<string[]> {
  const files = new Set<string>();
  for (const input of inputs) {
    const path = resolve(cwd, input);
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      throw new SiteInputError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if (info.isDirectory()) for (const f of await jsonFilesUnder(path)) files.add(f);
    else files.add(path);
  }
  return [...files].sort();
}

async function jsonFilesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await jsonFilesUnder(path)));
    else if (entry.isFile() && entry.name.endsWith('.json')) out.push(path);
  }
  return out;
}

/** True for a replay file (`run` writes them beside the JSON report): not a report, skipped in directories. */
function isReplayFile(value: unknown): boolean {
  return value !== null && typeof value === 'object' && (value as { format?: unknown }).format === 'nova-conformance-replay';
}

/**
 * Read and validate every file. A file that is not a report becomes a problem naming the file
 * and each offending field; the others are still returned. Replay files found in a directory
 * are skipped; named explicitly (`explicit`), they are problems like any other non-report.
 */
export async function loadReports(files: readonly string[], explicit: ReadonlySet<string> = new Set()): Promise<LoadResult> {
  const reports: LoadedReport[] = [];
  const problems: ReportProblem[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      problems.push({ file, issues: [{ path: '(file)', message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }] });
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      problems.push({ file, issues: [{ path: '(root)', message: `invalid JSON: ${(error as Error).message}` }] });
      continue;
    }
    if (isReplayFile(value) && !explicit.has(file)) continue;
    try {
      reports.push({ file, report: parseJsonReport(value, file) });
    } catch (error) {
      if (!(error instanceof InvalidReportError)) throw error;
      problems.push({ file, issues: error.issues });
    }
  }
  return { reports, problems };
}

/** One problem as a line: the file, then each field and what is wrong with it. */
export function describeProblem(problem: ReportProblem): string {
  return `${problem.file} is not a nova-conformance JSON report: ${problem.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`;
}
