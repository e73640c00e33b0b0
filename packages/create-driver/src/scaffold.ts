import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ScaffoldError } from './errors.js';
import { checkDescription, checkPackageName, parseCiSource } from './names.js';
import { driverPackageJson } from './package-json.js';
import { renderTemplate } from './render.js';
import { DEFAULT_CI_SOURCE } from './versions.js';

export interface ScaffoldOptions {
  /** The directory to create (absolute, or relative to `cwd`); it must not exist or be empty. */
  dir: string;
  /** The npm package name; default: the directory's name. */
  name?: string;
  /** One line on what the driver drives. */
  description?: string;
  /** `owner/repo@ref` of the nova-common repository whose reusable workflow the CI file calls. */
  ciSource?: string;
  cwd?: string;
}

export interface ScaffoldResult {
  /** The absolute directory written. */
  dir: string;
  name: string;
  /** The files written, relative to `dir`, sorted. */
  files: string[];
}

/** Throws TARGET_NOT_EMPTY when `dir` exists and holds anything, INVALID_ARGUMENT when it is not a directory. */
async function checkTarget(dir: string): Promise<void> {
  let info;
  try {
    info = await stat(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!info.isDirectory()) throw new ScaffoldError('INVALID_ARGUMENT', 'dir', `${dir} exists and is not a directory`);
  if ((await readdir(dir)).length > 0) throw new ScaffoldError('TARGET_NOT_EMPTY', 'dir', `${dir} is not empty`);
}

/**
 * Write a new driver package into `dir`: package.json, the manifest with its zod
 * configuration schema, a driver over a tiny in-memory backend (every optional operation
 * declared missing), the conformance suite as vitest tests, a README and a CI workflow.
 * Every name is validated first; nothing is written when one is refused.
 */
export async function scaffold(options: ScaffoldOptions): Promise<ScaffoldResult> {
  if (options.dir.trim() === '') throw new ScaffoldError('INVALID_ARGUMENT', 'dir', 'must not be empty');
  const dir = resolve(options.cwd ?? process.cwd(), options.dir);
  const name = checkPackageName(options.name ?? basename(dir), 'name');
  const description = checkDescription(options.description ?? `A nova-common compute driver (${name}).`, 'description');
  const ci = parseCiSource(options.ciSource ?? DEFAULT_CI_SOURCE, 'ciSource');
  await checkTarget(dir);

  const files = await renderTemplate({ name, description, ciRepository: ci.repository, ciRef: ci.ref });
  files.push({ path: 'package.json', contents: `${JSON.stringify(driverPackageJson(name, description), null, 2)}\n` });
  for (const file of files) {
    const target = join(dir, ...file.path.split('/'));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.contents, { flag: 'wx' });
  }
  return { dir, name, files: files.map((f) => f.path).sort() };
}
