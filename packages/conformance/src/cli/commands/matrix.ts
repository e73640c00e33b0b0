import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidReportError, parseJsonReport } from '../../report/json.js';
import { toMatrixHtml } from '../../report/matrix-html.js';
import { toMatrixMarkdown } from '../../report/matrix-markdown.js';
import { toMatrixText } from '../../report/terminal.js';
import { writeAtomic } from '../../report/write.js';
import type { JsonReport } from '../../report/json-schema.js';
import { isPlugReport, parsePlugReport, type PlugReport } from '../../plugs/report.js';
import { plugMatrixHtml, plugMatrixMarkdown, plugMatrixText } from '../../plugs/matrix.js';
import { listOption, parseCommandArgs, stringOption } from '../args.js';
import { EXIT_PASS, UsageError, type CliIo } from '../io.js';

export async function matrixCommand(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs('matrix', argv, {
    json: { type: 'string', list: true },
    md: { type: 'string' },
    html: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  const files = listOption(args.json);
  if (files.length === 0) throw new UsageError('give at least one report: --json <a.json> [<b.json> ...]', 'matrix');
  const reports: JsonReport[] = [];
  // Plug reports (nova-plug-conformance --json) add the plugs' tables after the drivers'.
  const plugReports: PlugReport[] = [];
  for (const file of files) {
    const path = resolve(io.cwd, file);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read report ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'matrix');
    }
    try {
      const plug = plugReportIn(text);
      if (plug === undefined) reports.push(parseJsonReport(text, path));
      else plugReports.push(parsePlugReport(plug, path));
    } catch (error) {
      if (!(error instanceof InvalidReportError) && plugReportIn(text) !== undefined) throw new UsageError((error as Error).message, 'matrix');
      if (error instanceof InvalidReportError) throw new UsageError(error.message, 'matrix');
      throw error;
    }
  }
  const md = stringOption(args.md);
  const html = stringOption(args.html);
  const generatedAt = new Date().toISOString();
  const markdown = [toMatrixMarkdown(reports, { generatedAt }).trimEnd(), '', ...plugMatrixMarkdown(plugReports)].join('\n');
  const page = toMatrixHtml(reports, { generatedAt }).replace('</body>', `${plugMatrixHtml(plugReports).join('\n')}\n</body>`);
  if (md !== undefined) io.stderr.write(`wrote ${await writeAtomic(resolve(io.cwd, md), `${markdown.trimEnd()}\n`)}\n`);
  if (html !== undefined) io.stderr.write(`wrote ${await writeAtomic(resolve(io.cwd, html), page)}\n`);
  if (md === undefined && html === undefined) io.stdout.write(`${[toMatrixText(reports, { generatedAt }), ...plugMatrixText(plugReports)].join('\n')}\n`);
  return EXIT_PASS;
}

/** The parsed document when the text is a plug report, else undefined (a driver report, or not JSON: parseJsonReport says why). */
function plugReportIn(text: string): unknown {
  try {
    const value: unknown = JSON.parse(text);
    return isPlugReport(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
