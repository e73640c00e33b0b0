import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidReportError, parseJsonReport } from '../../report/json.js';
import { toMatrixHtml } from '../../report/matrix-html.js';
import { toMatrixMarkdown } from '../../report/matrix-markdown.js';
import { toMatrixText } from '../../report/terminal.js';
import { writeAtomic } from '../../report/write.js';
import type { JsonReport } from '../../report/json-schema.js';
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
  for (const file of files) {
    const path = resolve(io.cwd, file);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read report ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'matrix');
    }
    try {
      reports.push(parseJsonReport(text, path));
    } catch (error) {
      if (error instanceof InvalidReportError) throw new UsageError(error.message, 'matrix');
      throw error;
    }
  }
  const md = stringOption(args.md);
  const html = stringOption(args.html);
  const generatedAt = new Date().toISOString();
  if (md !== undefined) io.stderr.write(`wrote ${await writeAtomic(resolve(io.cwd, md), toMatrixMarkdown(reports, { generatedAt }))}\n`);
  if (html !== undefined) io.stderr.write(`wrote ${await writeAtomic(resolve(io.cwd, html), toMatrixHtml(reports, { generatedAt }))}\n`);
  if (md === undefined && html === undefined) io.stdout.write(`${toMatrixText(reports, { generatedAt })}\n`);
  return EXIT_PASS;
}
