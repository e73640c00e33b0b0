import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { collectReportFiles, describeProblem, loadReports, SiteInputError } from '../../site/load.js';
import { generateSite } from '../../site/generate.js';
import { EXIT_FAIL, EXIT_PASS, UsageError, type CliIo } from '../io.js';

/**
 * `nova-conformance site --out <dir> <report.json | dir>...`: a static site from many JSON
 * reports. A file that is not a report is named on stderr with each offending field; the site
 * is still written from the others, and the exit code is 1. No report at all is a usage error.
 */
export async function siteCommand(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { out: { type: 'string' }, title: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\s*To specify a positional argument.*$/s, '').replace(/^Unknown option/, 'unknown option'), 'site');
  }
  const { out, title } = parsed.values;
  if (out === undefined || out === '') throw new UsageError('--out <dir> is required', 'site');
  const inputs = parsed.positionals;
  if (inputs.length === 0) throw new UsageError('give at least one report file or directory: site --out <dir> <report.json | dir>...', 'site');
  if (title !== undefined && (title.trim() === '' || /\p{Cc}/u.test(title))) throw new UsageError('--title must be non-blank text without control characters', 'site');

  let files: string[];
  try {
    files = await collectReportFiles(inputs, io.cwd);
  } catch (error) {
    if (error instanceof SiteInputError) throw new UsageError(error.message, 'site');
    throw error;
  }
  const explicit = new Set(inputs.map((i) => resolve(io.cwd, i)));
  const { reports, problems } = await loadReports(files, explicit);
  for (const p of problems) io.stderr.write(`nova-conformance site: ${describeProblem(p)}\n`);
  if (reports.length === 0) {
    throw new UsageError(files.length === 0 ? `no JSON file found in ${inputs.join(', ')}` : 'none of the files is a valid report; nothing written', 'site');
  }
  const { model, written } = await generateSite(reports, resolve(io.cwd, out), title === undefined ? {} : { title });
  io.stderr.write(
    `wrote ${written.length} files to ${resolve(io.cwd, out)}: ${plural(model.runs.length, 'run')} of ${plural(model.drivers.length, 'driver')} ` +
      `on ${plural(model.targets.length, 'backend')}${problems.length > 0 ? `; ${plural(problems.length, 'invalid file')} left out` : ''}\n`,
  );
  io.stdout.write(`${resolve(io.cwd, out, 'index.html')}\n`);
  return problems.length > 0 ? EXIT_FAIL : EXIT_PASS;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
