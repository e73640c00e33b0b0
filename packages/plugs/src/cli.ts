#!/usr/bin/env node
import { writeFileSync, renameSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runPlugsOnHost } from './conformance/run-on-host.js';

const USAGE = `Usage: nova-plug-conformance [--json <report.json>] [--seed <n>] [--host <label>]

Runs the plug suites of @nova-common/conformance on every plug of @nova-common/plugs on this
host (VIF plugins inside network namespaces it makes, Open vSwitch with a database and daemon of
its own; volume connectors on files in a temporary directory, iSCSI against a tgt target of its
own on 127.0.0.1), prints each plug's verdict, and writes a plug report that
\`nova-conformance matrix --json\` adds to the support matrix. A plug whose host tools are not
installed is reported as not run, with the reason. Needs root.

Exit codes: 0 every plug passed, 1 a property failed, 2 usage error or not root.`;

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { json: { type: 'string' }, seed: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isSafeInteger(seed)) {
    process.stderr.write(`--seed must be an integer, not ${values.seed}\n`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('nova-plug-conformance makes network namespaces and loop devices: run it as root\n');
    return 2;
  }
  const report = await runPlugsOnHost({
    ...(seed === undefined ? {} : { seed }),
    ...(values.host === undefined ? {} : { host: values.host }),
    onResult: (r) => {
      const failed = r.properties.filter((p) => !p.passed);
      process.stdout.write(`${r.passed ? 'PASS' : 'FAIL'} ${r.kind} ${r.plugin} (accepts ${r.accepts.join(', ')}): ${r.properties.length - failed.length}/${r.properties.length}\n`);
      for (const p of failed) process.stdout.write(`  ${p.id}: ${p.detail ?? ''}\n`);
    },
  });
  if (values.json !== undefined) {
    writeFileSync(`${values.json}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
    renameSync(`${values.json}.tmp`, values.json);
    process.stderr.write(`wrote ${values.json}\n`);
  }
  return report.runs.every((r) => r.passed) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`nova-plug-conformance: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
