// The steps of one downstream check: commands run without a shell, their output in a log file.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Run a command (an argument array, never a shell line); its output goes to `log`. Returns its exit code. */
export function run(command, args, { cwd, log, env = {} }) {
  appendFileSync(log, `\n$ ${[command, ...args].map((a) => JSON.stringify(a)).join(' ')}   (in ${cwd})\n`);
  const started = performance.now();
  const r = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 256 << 20 });
  appendFileSync(log, `${r.stdout ?? ''}${r.stderr ?? ''}`);
  const code = r.status ?? (r.error ? 127 : 128);
  appendFileSync(log, `[exit ${code}${r.error ? `: ${r.error.message}` : ''} after ${((performance.now() - started) / 1000).toFixed(1)} s]\n`);
  return code;
}

/** Replace {dir}, {socket} and {repo} in every string of a JSON value (arguments and configurations). */
export function substitute(value, vars) {
  if (typeof value === 'string') return value.replace(/\{(dir|socket|repo)\}/g, (_, k) => vars[k]);
  if (Array.isArray(value)) return value.map((v) => substitute(v, vars));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, vars)]));
  return value;
}

/** Copy a driver's sources, leaving out what an install or a build made. */
export function copySources(from, to) {
  const skip = new Set(['node_modules', 'dist', 'build', '.compat', 'conformance-reports']);
  cpSync(from, to, { recursive: true, filter: (src) => !skip.has(src.split('/').pop()) });
}

/** Start a server process and resolve once a line of its stdout contains `ready`; rejects if it exits first or after 60 s. */
export function startServer(args, { cwd, log, ready, env = {} }) {
  appendFileSync(log, `\n$ ${args.map((a) => JSON.stringify(a)).join(' ')} &   (in ${cwd})\n`);
  const child = spawn(args[0], args.slice(1), { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`the server did not print "${ready}" within 60 s`));
    }, 60_000);
    child.stdout.on('data', (b) => {
      appendFileSync(log, b);
      out += b.toString();
      if (out.includes(ready)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr.on('data', (b) => appendFileSync(log, b));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code} before it was ready`));
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Stop a server this check started, and wait for it. */
export async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** What a JSON report says: properties, table cells, supported capabilities the run confirmed. */
export function summarizeReport(file) {
  if (!existsSync(file)) return undefined;
  const r = JSON.parse(readFileSync(file, 'utf8'));
  const supported = r.capabilities.filter((c) => c.declared !== 'missing');
  return {
    properties: `${r.summary.passed} passed, ${r.summary.failed} failed, ${r.summary.skipped} skipped`,
    failed: r.summary.failed,
    cells: r.coverage ? `${r.coverage.cellsReached}/${r.coverage.cellsReachable}` : '-',
    capabilities: `${supported.filter((c) => c.status === 'complete').length}/${supported.length} complete`,
    contract: r.contractVersion,
  };
}

export function driverLog(workDir, name) {
  return join(workDir, `${name}.log`);
}
