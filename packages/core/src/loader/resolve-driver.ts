import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, parse as parsePath, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exports as resolveExports } from 'resolve.exports';

/** The package.json fields the loader reads; the rest is kept as is. */
export interface PackageJson {
  name: string;
  version: string;
  [key: string]: unknown;
}

/** Where a driver specifier led. */
export interface ResolvedDriver {
  /** The module file to import (real path). */
  entryPath: string;
  /** The package.json of the package the module belongs to, when there is one. */
  packageJson: PackageJson | undefined;
  /** Where that package.json is. */
  packageJsonPath: string | undefined;
  /** The package name: from package.json, else from the specifier. */
  packageName: string;
  /** True when the specifier named the package (a package name or a package directory), not a file in it. */
  viaPackage: boolean;
}

/** Why resolution failed: what was looked at, for the NOT_INSTALLED message. */
export class ResolveFailure extends Error {
  constructor(
    readonly reason: string,
    readonly searched: string[],
    readonly packageName: string,
    readonly failure?: unknown,
  ) {
    super(reason);
  }
}

/** A package.json that exists but cannot be read or parsed. */
export class PackageJsonFailure extends Error {
  constructor(
    readonly path: string,
    readonly failure: unknown,
  ) {
    super(`cannot read ${path}`);
  }
}

/** True for specifiers that are filesystem paths or file: URLs rather than package names. */
export function isPathSpecifier(specifier: string): boolean {
  return (
    isAbsolute(specifier) ||
    specifier === '.' ||
    specifier === '..' ||
    specifier.startsWith('./') ||
    specifier.startsWith('../') ||
    specifier.startsWith('.\\') ||
    specifier.startsWith('..\\') ||
    specifier.startsWith('file:')
  );
}

function readPackageJson(path: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('package.json is not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new PackageJsonFailure(path, error);
  }
}

function toPackageJson(raw: Record<string, unknown>, fallbackName: string): PackageJson {
  return {
    ...raw,
    name: typeof raw.name === 'string' ? raw.name : fallbackName,
    version: typeof raw.version === 'string' ? raw.version : '0.0.0',
  };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Split `@scope/name/sub/path` into the package name and the `./sub/path` subpath. */
export function splitPackageSpecifier(specifier: string): { name: string; subpath: string } {
  const parts = specifier.split('/');
  const nameLength = specifier.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameLength).join('/');
  const rest = parts.slice(nameLength);
  return { name, subpath: rest.length > 0 ? `./${rest.join('/')}` : '.' };
}

function isValidPackageName(name: string): boolean {
  // npm's rules, reduced to what matters for finding a folder: no path tricks, no empty parts.
  return /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name) && !name.includes('..');
}

/** The file `main`, `main.js`, `main/index.js` or `index.js` of a package without an exports map (Node's legacy main lookup). */
function legacyEntry(pkgDir: string, pkg: Record<string, unknown>, subpath: string, searched: string[]): string | undefined {
  const base = subpath === '.' ? (typeof pkg.main === 'string' ? join(pkgDir, pkg.main) : undefined) : join(pkgDir, subpath);
  const candidates: string[] = [];
  if (base !== undefined) candidates.push(base, `${base}.js`, `${base}.cjs`, `${base}.mjs`, join(base, 'index.js'));
  if (subpath === '.') candidates.push(join(pkgDir, 'index.js'));
  for (const candidate of candidates) {
    searched.push(candidate);
    if (isFile(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The module a package exposes at `subpath`, following its exports map with Node's
 * conditions for `import()` (node, import, default); without an exports map, its main.
 */
function entryOfPackage(pkgDir: string, pkgJsonPath: string, name: string, subpath: string, searched: string[]): string {
  const pkg = readPackageJson(pkgJsonPath);
  if (pkg.exports !== undefined && pkg.exports !== null) {
    let targets: string[] | void;
    try {
      targets = resolveExports(pkg as { name: string }, subpath, { conditions: ['node', 'import'] });
    } catch (error) {
      throw new ResolveFailure(
        `package ${name} is installed at ${pkgDir} but its exports map does not expose "${subpath}"`,
        [pkgJsonPath],
        name,
        error,
      );
    }
    for (const target of targets ?? []) {
      const candidate = join(pkgDir, target);
      searched.push(candidate);
      if (isFile(candidate)) return candidate;
    }
    throw new ResolveFailure(
      `package ${name} maps "${subpath}" to ${(targets ?? []).join(', ') || 'nothing'}, which does not exist`,
      searched,
      name,
    );
  }
  const legacy = legacyEntry(pkgDir, pkg, subpath, searched);
  if (legacy === undefined) {
    throw new ResolveFailure(`package ${name} is installed at ${pkgDir} but has no module for "${subpath}"`, searched, name);
  }
  return legacy;
}

/** The nearest package.json at or above `dir`, or undefined. */
function nearestPackageJson(dir: string): string | undefined {
  let current = dir;
  for (;;) {
    const candidate = join(current, 'package.json');
    if (isFile(candidate)) return candidate;
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

function finish(entry: string, pkgJsonPath: string | undefined, fallbackName: string, viaPackage: boolean): ResolvedDriver {
  const entryPath = realpathSync(entry);
  const realPkgJson = pkgJsonPath === undefined ? undefined : realpathSync(pkgJsonPath);
  const packageJson = realPkgJson === undefined ? undefined : toPackageJson(readPackageJson(realPkgJson), fallbackName);
  return {
    entryPath,
    packageJson,
    packageJsonPath: realPkgJson,
    // A file's enclosing package.json names the driver only when it says it is a driver package.
    packageName: packageJson !== undefined && (viaPackage || 'nova-common' in packageJson) ? packageJson.name : fallbackName,
    viaPackage,
  };
}

function resolvePathSpecifier(specifier: string, resolveFrom: string): ResolvedDriver {
  const target = specifier.startsWith('file:') ? fileURLToPath(specifier) : resolvePath(resolveFrom, specifier);
  if (isDirectory(target)) {
    const pkgJsonPath = join(target, 'package.json');
    const searched: string[] = [pkgJsonPath];
    if (isFile(pkgJsonPath)) {
      const raw = readPackageJson(pkgJsonPath);
      const name = typeof raw.name === 'string' ? raw.name : specifier;
      return finish(entryOfPackage(target, pkgJsonPath, name, '.', searched), pkgJsonPath, name, true);
    }
    const index = join(target, 'index.js');
    searched.push(index);
    if (isFile(index)) return finish(index, nearestPackageJson(target), specifier, false);
    throw new ResolveFailure(`directory ${target} has neither a package.json nor an index.js`, searched, specifier);
  }
  if (isFile(target)) return finish(target, nearestPackageJson(dirname(target)), specifier, false);
  throw new ResolveFailure(`no file or directory at ${target}`, [target], specifier);
}

function resolvePackageSpecifier(specifier: string, resolveFrom: string): ResolvedDriver {
  const { name, subpath } = splitPackageSpecifier(specifier);
  if (!isValidPackageName(name)) {
    throw new ResolveFailure(`"${specifier}" is neither a valid package name nor a path (paths start with /, ./ or ../)`, [], specifier);
  }
  const searched: string[] = [];
  const start = resolvePath(resolveFrom);

  // A package may import itself by name through its own exports map (Node's self-reference).
  const scope = nearestPackageJson(start);
  if (scope !== undefined) {
    const raw = readPackageJson(scope);
    if (raw.name === name && raw.exports !== undefined) {
      return finish(entryOfPackage(dirname(scope), scope, name, subpath, searched), scope, name, true);
    }
  }

  // Then node_modules folders from resolveFrom up to the root, as Node looks them up.
  let dir = start;
  const root = parsePath(start).root;
  for (;;) {
    if (parsePath(dir).base !== 'node_modules') {
      const pkgDir = join(dir, 'node_modules', name);
      const pkgJsonPath = join(pkgDir, 'package.json');
      searched.push(join(dir, 'node_modules'));
      if (existsSync(pkgJsonPath)) {
        const realDir = realpathSync(pkgDir);
        const realPkgJson = join(realDir, 'package.json');
        return finish(entryOfPackage(realDir, realPkgJson, name, subpath, []), realPkgJson, name, true);
      }
    }
    if (dir === root) break;
    dir = dirname(dir);
  }
  throw new ResolveFailure(`package ${name} is not installed where ${start} can see it`, searched, name);
}

/** Resolve a package name (with optional subpath) or a path to the module to import. */
export function resolveDriver(specifier: string, resolveFrom: string): ResolvedDriver {
  if (specifier.trim() === '') throw new ResolveFailure('no package name or path was given', [], specifier);
  return isPathSpecifier(specifier) ? resolvePathSpecifier(specifier, resolveFrom) : resolvePackageSpecifier(specifier, resolveFrom);
}
