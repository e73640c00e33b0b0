// Packs workspace packages with `pnpm pack` (workspace: ranges become real ones) and checks
// that each tarball holds every file its package.json names:
//
//   node scripts/ci/lib/pack.mjs <destination> <package>...     e.g. ... /tmp/t core conformance
//
// Prints {"@nova-common/core": "/tmp/t/nova-common-core-1.1.0.tgz", ...} on stdout. A tarball
// missing its build output is packed again after a pause (a build of that package may be under
// way), and so is one pnpm refused to pack, up to 6 times; then it fails, naming the files or
// printing pnpm's output.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingFiles, tarballManifest } from './tarballs.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const [destination, ...names] = process.argv.slice(2);
if (destination === undefined || names.length === 0) {
  console.error('usage: pack.mjs <destination> <package>...');
  process.exit(2);
}
const dest = resolve(destination);
mkdirSync(dest, { recursive: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const out = {};
for (const short of names) {
  if (!/^[a-z0-9-]+$/.test(short)) throw new Error(`package: ${JSON.stringify(short)} is not a workspace package directory name`);
  const dir = join(repo, 'packages', short);
  const prefix = `nova-common-${short}-`;
  let missing = [];
  let failure;
  for (let attempt = 1; attempt <= 6; attempt++) {
    for (const f of readdirSync(dest)) if (f.startsWith(prefix) && f.endsWith('.tgz')) rmSync(join(dest, f));
    const packed = spawnSync('pnpm', ['pack', '--pack-destination', dest], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
    const tarball = readdirSync(dest).find((f) => f.startsWith(prefix) && f.endsWith('.tgz'));
    if (packed.status !== 0 || tarball === undefined) {
      // A pack can fail while the package is being rebuilt: try again after a pause.
      failure = `pnpm pack exited ${packed.status}${packed.error ? ` (${packed.error.message})` : ''}:\n${packed.stdout}${packed.stderr}`;
      if (attempt < 6) await sleep(10_000);
      continue;
    }
    failure = undefined;
    const path = join(dest, tarball);
    missing = missingFiles(path);
    if (missing.length === 0) {
      out[tarballManifest(path).name] = path;
      break;
    }
    if (attempt < 6) await sleep(10_000);
  }
  if (failure !== undefined) {
    console.error(`packages/${short}: ${failure}`);
    process.exit(1);
  }
  if (missing.length > 0) {
    console.error(`packages/${short}: the tarball lacks ${missing.join(', ')}: build it first (pnpm --filter ./packages/${short} build)`);
    process.exit(1);
  }
}
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
