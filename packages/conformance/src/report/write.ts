import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { DifferentialResult, RunResult } from '../result.js';
import { formatJsonReport } from './json.js';
import { toJunitXml } from './junit.js';
import { toMatrixHtml } from './matrix-html.js';
import { toMatrixMarkdown } from './matrix-markdown.js';

/** Which report files to write; each is a path, absent ones are not written. */
export interface ReportFiles {
  json?: string | undefined;
  junit?: string | undefined;
  markdown?: string | undefined;
  html?: string | undefined;
}

/**
 * Write the requested reports of one run. Each file is written to a temporary name beside
 * it and renamed, so a reader never sees a half-written report. Returns the absolute paths
 * written, by format.
 */
export async function writeReports(
  result: RunResult,
  files: ReportFiles,
  options: { differential?: DifferentialResult | undefined; generatedAt?: string | undefined } = {},
): Promise<ReportFiles> {
  const diff = options.differential === undefined ? {} : { differential: options.differential };
  const matrixOptions = options.generatedAt === undefined ? {} : { generatedAt: options.generatedAt };
  const written: ReportFiles = {};
  if (files.json !== undefined) written.json = await writeAtomic(files.json, formatJsonReport(result, diff));
  if (files.junit !== undefined) written.junit = await writeAtomic(files.junit, toJunitXml(result, diff));
  if (files.markdown !== undefined) written.markdown = await writeAtomic(files.markdown, toMatrixMarkdown([result], matrixOptions));
  if (files.html !== undefined) written.html = await writeAtomic(files.html, toMatrixHtml([result], matrixOptions));
  return written;
}

export async function writeAtomic(path: string, content: string): Promise<string> {
  const target = resolve(path);
  await mkdir(dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, content, 'utf8');
  await rename(tmp, target);
  return target;
}
