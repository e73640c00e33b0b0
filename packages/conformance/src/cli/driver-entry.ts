import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The module file a path given as `--driver` stands for, so a generated program can import
 * it: a file is itself; a package directory is its entry (`exports` "." under the import,
 * node or default condition, else `main`, else index.js), as Node resolves the package by
 * name. A directory Node cannot import (ERR_UNSUPPORTED_DIR_IMPORT) never reaches a program.
 */
export function driverEntryFile(path: string): string {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return path;
  }
  if (!stat.isDirectory()) return path;
  const pkgPath = join(path, 'package.json');
  if (existsSync(pkgPath)) {
    let pkg: { exports?: unknown; main?: unknown };
    try {
      pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports?: unknown; main?: unknown };
    } catch {
      pkg = {};
    }
    const target = exportTarget(pkg.exports);
    if (target !== undefined) return resolve(path, target);
    if (typeof pkg.main === 'string' && pkg.main !== '') {
      const main = resolve(path, pkg.main);
      for (const candidate of [main, `${main}.js`, join(main, 'index.js')]) {
        if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
      }
    }
  }
  return join(path, 'index.js');
}

const CONDITIONS = ['import', 'node', 'default'];

/** The "." target of a package.json `exports` field, for an ESM import. */
function exportTarget(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports;
  if (Array.isArray(exports)) {
    for (const e of exports) {
      const t = exportTarget(e);
      if (t !== undefined) return t;
    }
    return undefined;
  }
  if (exports === null || typeof exports !== 'object') return undefined;
  const map = exports as Record<string, unknown>;
  const keys = Object.keys(map);
  // Subpath map ({ ".": ..., "./x": ... }) or conditions ({ import: ..., default: ... }).
  if (keys.some((k) => k.startsWith('.'))) return exportTarget(map['.']);
  for (const c of CONDITIONS) if (c in map) {
    const t = exportTarget(map[c]);
    if (t !== undefined) return t;
  }
  return undefined;
}
