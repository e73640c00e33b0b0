// Packed workspace packages: what a tarball holds, whether it is complete, and pointing a
// package's dependencies at tarballs.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The package.json inside a tarball. */
export function tarballManifest(tarball) {
  return JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8', maxBuffer: 16 << 20 }));
}

/** Every file a package's exports, main, module, types and bin name (wildcard patterns left out). */
function namedFiles(pkg) {
  const out = new Set();
  const visit = (v) => {
    if (typeof v === 'string') {
      if (!v.includes('*')) out.add(v.replace(/^\.\//, ''));
    } else if (v !== null && typeof v === 'object') {
      for (const x of Object.values(v)) visit(x);
    }
  };
  visit(pkg.exports);
  for (const field of ['main', 'module', 'types']) visit(pkg[field]);
  visit(typeof pkg.bin === 'string' ? pkg.bin : pkg.bin ?? {});
  return [...out];
}

/** The files a tarball's package.json names that the tarball lacks (a package packed before its build finished). */
export function missingFiles(tarball) {
  const listed = new Set(
    execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8', maxBuffer: 64 << 20 })
      .split('\n')
      .filter(Boolean)
      .map((p) => p.replace(/^package\//, '')),
  );
  return namedFiles(tarballManifest(tarball)).filter((f) => !listed.has(f));
}

/**
 * Point `dir`'s package.json at the tarballs: each dependency field naming a tarball's package
 * gets `file:<tarball>`, packages it does not depend on are added as dependencies, and an npm
 * override makes every other package's dependency on them (the suite's on core) resolve to the
 * same tarball.
 */
export function pinTarballs(dir, tarballs) {
  const file = join(dir, 'package.json');
  const pkg = JSON.parse(readFileSync(file, 'utf8'));
  const FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies'];
  pkg.overrides ??= {};
  for (const tarball of tarballs) {
    const path = resolve(tarball);
    const { name } = tarballManifest(path);
    const spec = `file:${path}`;
    let named = false;
    for (const field of FIELDS) {
      if (pkg[field]?.[name] !== undefined) {
        pkg[field][name] = spec;
        named = true;
      }
    }
    if (!named) (pkg.dependencies ??= {})[name] = spec;
    pkg.overrides[name] = spec;
  }
  writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
}
