import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The template of a driver package, shipped beside dist/ in this package. */
export const TEMPLATE_DIR = fileURLToPath(new URL('../templates/driver/', import.meta.url));

/** What fills a template's placeholders. Every value was validated before it gets here. */
export interface TemplateValues {
  readonly name: string;
  readonly description: string;
  readonly ciRepository: string;
  readonly ciRef: string;
}

/**
 * Template files named as npm would not ship them or a tool would pick them up in this
 * repository: `gitignore` becomes `.gitignore`, `github/` becomes `.github/`.
 */
function targetPath(templatePath: string): string {
  const parts = templatePath.split(sep);
  if (parts[0] === 'github') parts[0] = '.github';
  if (parts.length === 1 && parts[0] === 'gitignore') parts[0] = '.gitignore';
  return parts.join('/');
}

/** Fill the placeholders; string literals in code get JSON (a valid TypeScript string literal). */
export function fill(text: string, values: TemplateValues): string {
  const table: Record<string, string> = {
    NAME: values.name,
    NAME_LITERAL: JSON.stringify(values.name),
    DESCRIPTION: values.description,
    DESCRIPTION_LITERAL: JSON.stringify(values.description),
    CI_REPOSITORY: values.ciRepository,
    CI_REF: values.ciRef,
  };
  const out = text.replace(/@@([A-Z_]+)@@/g, (whole, key: string) => {
    const value = table[key];
    if (value === undefined) throw new Error(`template placeholder ${whole} has no value`);
    return value;
  });
  return out;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out.sort();
}

/** Every file of the generated package: its path (with `/`) and contents. */
export async function renderTemplate(values: TemplateValues, templateDir = TEMPLATE_DIR): Promise<Array<{ path: string; contents: string }>> {
  const files = await walk(templateDir);
  return Promise.all(
    files.map(async (file) => ({
      path: targetPath(relative(templateDir, file)),
      contents: fill(await readFile(file, 'utf8'), values),
    })),
  );
}
