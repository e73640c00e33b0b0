// Checks out-of-tree drivers against the packed current core and conformance, outside the
// workspace, and prints a compatibility table. Run by scripts/ci/downstream.sh:
//
//   node scripts/ci/lib/downstream.mjs --work DIR --tarballs FILE.json [--list FILE] [--only NAME]... [--runs N] [--seed N]
//
// For each driver of the list: make or copy it into DIR/<name>, point its @nova-common/*
// dependencies at the tarballs, `npm install` it there, run its tests (when the list says so),
// then scripts/ci/driver-conformance.sh against it. Exit 1 when any driver failed.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { copySources, driverLog, run, startServer, stopServer, substitute, summarizeReport } from './downstream-steps.mjs';
import { pinTarballs } from './tarballs.mjs';
import { formatTable } from './downstream-table.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const { values } = parseArgs({
  options: {
    work: { type: 'string' },
    tarballs: { type: 'string' },
    list: { type: 'string', default: join(repo, 'scripts/ci/downstream.json') },
    only: { type: 'string', multiple: true },
    runs: { type: 'string' },
    seed: { type: 'string' },
  },
});
if (values.work === undefined || values.tarballs === undefined) {
  console.error('usage: downstream.mjs --work DIR --tarballs FILE.json [--list FILE] [--only NAME]... [--runs N] [--seed N]');
  process.exit(2);
}
const work = resolve(values.work);
const tarballs = JSON.parse(readFileSync(values.tarballs, 'utf8'));
const list = JSON.parse(readFileSync(values.list, 'utf8'));
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** The tarball of a workspace package by its directory name (core, conformance, agent, create-driver). */
function tarball(short) {
  const path = tarballs[`@nova-common/${short}`];
  if (path === undefined) throw new Error(`no tarball of @nova-common/${short} was packed`);
  return path;
}

function suiteArgs(dir, entry, config, reports, extra) {
  return [
    join(repo, 'scripts/ci/driver-conformance.sh'),
    '--driver-dir', dir,
    '--driver', entry.driver ?? '.',
    '--config', config,
    '--reports', reports,
    '--no-install',
    ...(entry.kind === 'wire' ? ['--no-build'] : []),
    '--label', `downstream: ${entry.name}`,
    ...extra,
  ];
}

/** One driver: returns its row of the table. */
async function check(entry) {
  if (!NAME.test(entry.name ?? '')) throw new Error(`downstream list: name ${JSON.stringify(entry.name)} must match ${NAME}`);
  const started = performance.now();
  const dir = join(work, entry.name);
  const log = driverLog(work, entry.name);
  writeFileSync(log, `downstream check of ${entry.name} (${entry.kind})\n`);
  const row = { name: entry.name, kind: entry.kind, tests: '-', conformance: 'not run', properties: '-', cells: '-', capabilities: '-', seconds: 0, log };
  const done = (status) => ({ ...row, conformance: row.conformance === 'not run' ? status : row.conformance, seconds: Math.round((performance.now() - started) / 1000) });
  const vars = { dir, socket: join(dir, 'driver.sock'), repo };
  const extra = [...(values.runs ? ['--runs', values.runs] : []), ...(values.seed ? ['--seed', values.seed] : [])];
  let host = dir;
  let server;
  try {
    if (entry.kind === 'scaffold') {
      const tools = join(work, '.tools');
      if (run('npm', ['install', '--prefix', tools, '--no-audit', '--no-fund', tarball('create-driver')], { cwd: work, log }) !== 0) return done('install failed');
      if (run('node', [join(tools, 'node_modules/@nova-common/create-driver/dist/cli.js'), dir, '--name', entry.package], { cwd: work, log }) !== 0) return done('scaffold failed');
    } else if (entry.kind === 'package' || entry.kind === 'wire') {
      copySources(join(repo, entry.path), dir);
    } else {
      throw new Error(`downstream list: ${entry.name}: unknown kind ${JSON.stringify(entry.kind)}`);
    }
    if (entry.kind === 'wire') {
      // A driver in another language: the packages that reach it over the wire, installed beside it.
      host = join(dir, '.host');
      mkdirSync(host, { recursive: true });
      writeFileSync(join(host, 'package.json'), `${JSON.stringify({ name: 'downstream-host', private: true, type: 'module' }, null, 2)}\n`);
      pinTarballs(host, entry.packages.map(tarball));
    } else {
      pinTarballs(dir, ['core', 'conformance'].map(tarball));
    }
    if (run('npm', ['install', '--no-audit', '--no-fund'], { cwd: host, log }) !== 0) return done('install failed');
    if (entry.test) {
      const code = run('npm', ['test'], { cwd: host, log });
      row.tests = code === 0 ? 'pass' : 'FAIL';
    }
    const env = substitute(entry.env ?? {}, vars);
    if (entry.build && run(entry.build[0], substitute(entry.build.slice(1), vars), { cwd: dir, log, env }) !== 0) return done('build failed');
    if (entry.server) server = await startServer(substitute(entry.server, vars), { cwd: dir, log, ready: entry.ready ?? 'ready', env });
    const config = join(host, 'downstream-config.json');
    writeFileSync(config, `${JSON.stringify(substitute(entry.config ?? {}, vars), null, 2)}\n`);
    const reports = join(dir, 'conformance-reports');
    const code = run('bash', suiteArgs(host, entry, config, reports, extra), { cwd: work, log });
    const summary = summarizeReport(join(reports, 'report.json'));
    Object.assign(row, summary ?? {});
    row.conformance = code === 0 ? 'pass' : code === 1 ? 'FAIL' : `error (exit ${code})`;
    return done(row.conformance);
  } catch (error) {
    row.conformance = `error: ${error instanceof Error ? error.message : String(error)}`;
    return done(row.conformance);
  } finally {
    if (server) await stopServer(server);
  }
}

const rows = [];
const only = values.only ?? [];
for (const entry of list.drivers) {
  if (only.length > 0 && !only.includes(entry.name)) continue;
  process.stderr.write(`downstream: ${entry.name} (${entry.kind})...\n`);
  const row = await check(entry);
  process.stderr.write(`downstream: ${entry.name}: ${row.conformance} in ${row.seconds} s (log: ${row.log})\n`);
  rows.push(row);
}
if (rows.length === 0) {
  console.error(`downstream: no driver of ${values.list} matched --only ${only.join(', ')}`);
  process.exit(2);
}
const table = formatTable(rows);
writeFileSync(join(work, 'compatibility.md'), table);
process.stdout.write(table);
const failed = rows.filter((r) => r.conformance !== 'pass' || r.tests === 'FAIL');
for (const r of failed) {
  const text = readFileSync(r.log, 'utf8');
  process.stderr.write(`\n--- ${r.name}: last lines of ${r.log}\n${text.split('\n').slice(-40).join('\n')}\n`);
}
process.exit(failed.length === 0 ? 0 : 1);
