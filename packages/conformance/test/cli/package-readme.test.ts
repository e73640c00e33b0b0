import { existsSync, readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkgDir = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { files: string[]; repository?: unknown };
const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');

/** Link targets of the README: Markdown links and images, and HTML href/src attributes. */
function links(markdown: string): string[] {
  const md = [...markdown.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const refs = [...markdown.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1]!);
  const html = [...markdown.matchAll(/\b(?:href|src)\s*=\s*["']([^"']+)["']/g)].map((m) => m[1]!);
  return [...md, ...refs, ...html];
}

describe('the README packed into the tarball', () => {
  it('links only files the tarball contains', () => {
    const inTarball = (path: string): boolean =>
      ['package.json', ...pkg.files].some((f) => path === normalize(f) || path.startsWith(`${normalize(f)}/`));
    for (const target of links(readme)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
      const path = normalize(target.split('#')[0]!);
      expect(inTarball(path), `${target} is not in the package's "files"`).toBe(true);
      expect(existsSync(join(pkgDir, path)), `${target} does not exist`).toBe(true);
    }
  });

  it('links the repository only by absolute URL, and only when package.json names one', () => {
    const absolute = links(readme).filter((t) => /^https?:/i.test(t));
    if (pkg.repository === undefined) {
      // Without a repository URL there is nothing to link to: its documents are named in words.
      expect(absolute.filter((t) => /nova-common/i.test(t))).toEqual([]);
    }
  });
});
