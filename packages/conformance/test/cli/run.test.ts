import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { MODEL_PROPERTY_IDS, allProperties } from '../../src/properties/catalog.js';
import { parseJsonReport } from '../../src/report/json.js';
import { runCli, tempDir } from './run-main.js';

const lying = fileURLToPath(new URL('./fixtures/lying-driver.ts', import.meta.url));
const schema = JSON.parse(readFileSync(fileURLToPath(new URL('../../schemas/report.schema.json', import.meta.url)), 'utf8')) as object;
const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);

describe('run against the reference driver', () => {
  it('passes, exits 0 and writes the four reports', async () => {
    const cwd = tempDir();
    const r = await runCli(
      ['run', '--driver', 'reference', '--runs', '4', '--steps', '8', '--seed', '1234', '--run-id', 'nc-cli-test', '--label', 'in-memory, CI host',
        '--json', 'reports/r.json', '--junit', 'reports/r.xml', '--matrix', 'reports/r.md', '--html', 'reports/r.html'],
      { cwd },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS \d+ passed, 0 failed, \d+ skipped in /m);
    expect(r.stdout).toContain('seed 1234 | run id nc-cli-test | 4 runs x 8 steps | profiles all');

    const json = JSON.parse(readFileSync(join(cwd, 'reports/r.json'), 'utf8')) as unknown;
    expect(validate(json)).toBe(true);
    const report = parseJsonReport(json);
    expect(report.driver.name).toBe('@nova-common/core/testing');
    expect(report.driver.label).toBe('in-memory, CI host');
    expect(report.seed).toBe(1234);
    expect(report.runId).toBe('nc-cli-test');
    expect(report.options).toMatchObject({ runs: 4, steps: 8, profiles: 'all' });
    expect(report.summary.failed).toBe(0);

    const xml = readFileSync(join(cwd, 'reports/r.xml'), 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as { testsuites: { tests: string; failures: string } };
    expect(junit.testsuites.tests).toBe(String(report.properties.length));
    expect(junit.testsuites.failures).toBe('0');

    const md = readFileSync(join(cwd, 'reports/r.md'), 'utf8');
    expect(md).toContain('| Capability | Id | @nova-common/core/testing 1.2.0 (in-memory, CI host) |');
    const html = readFileSync(join(cwd, 'reports/r.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<code>nc-cli-test</code>');

    for (const kind of ['json', 'junit', 'markdown', 'html']) expect(r.stdout).toMatch(new RegExp(`^${kind} report: ${cwd}/reports/`, 'm'));
  });

  it('without a TTY, progress is one stderr line per property', async () => {
    const r = await runCli(['run', '--driver', 'reference', '--runs', '2', '--steps', '5', '--seed', '5', '--json', 'r.json']);
    expect(r.code).toBe(0);
    const report = parseJsonReport(readFileSync(join(r.cwd, 'r.json'), 'utf8'));
    const [head, ...lines] = r.stderr.trimEnd().split('\n');
    expect(head).toBe(`run ${report.runId}, seed 5: @nova-common/core/testing 1.2.0`);
    expect(lines).toHaveLength(report.properties.length);
    lines.forEach((line, i) => expect(line).toMatch(new RegExp(`^\\[${i + 1}/${lines.length}\\] ${report.properties[i]!.id.replace(/\./g, '\\.')} (passed|skipped)`)));
    expect(r.stderr).not.toContain('\r');
  });

  it('on a TTY, a status line is rewritten in place under the finished properties', async () => {
    const r = await runCli(['run', '--driver', 'reference', '--runs', '2', '--steps', '5', '--seed', '5'], { stderrIsTTY: true });
    expect(r.code).toBe(0);
    const n = allProperties().length;
    const models = MODEL_PROPERTY_IDS.length;
    // What the driver says of its host is judged first, then the model properties together.
    expect(r.stderr).toContain(`\r\u001b[2K[1/${n}] P-HOST-DESCRIPTION passed (1 run)\n`);
    expect(r.stderr).toContain(`\r\u001b[2K[1/${n}] running P-MODEL-SEQUENCES (+${models - 1}), 0s`);
    expect(r.stderr).toContain(`\r\u001b[2K[2/${n}] P-MODEL-SEQUENCES passed (2 runs)\n`);
    expect(r.stderr).toMatch(new RegExp(`\\r\\u001b\\[2K\\[${n}/${n}\\] P-[\\w.-]+ (passed|skipped)[^\\n]*\\n$`));
  });

  it('disabled capabilities are verified missing, and --profile is recorded', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'c.json'), JSON.stringify({ disabledCapabilities: ['operation.pause', 'operation.unpause'] }));
    const r = await runCli(['run', '--driver', 'reference', '--config', 'c.json', '--profile', 'power,lifecycle', '--runs', '3', '--seed', '9', '--json', 'r.json'], { cwd });
    expect(r.code).toBe(0);
    const report = parseJsonReport(readFileSync(join(cwd, 'r.json'), 'utf8'));
    expect(report.options.profiles).toEqual(['power', 'lifecycle']);
    const pause = report.capabilities.find((c) => c.id === 'operation.pause')!;
    expect(pause).toMatchObject({ declared: 'missing', status: 'missing', evidence: ['P-UNSUPPORTED-operation.pause'] });
    expect(report.properties.find((p) => p.id === 'P-UNSUPPORTED-operation.pause')?.status).toBe('passed');
    expect(report.capabilities.find((c) => c.id === 'operation.attach-volume')?.status).toBe('unknown');
    expect(report.driver.config).toEqual({ disabledCapabilities: ['operation.pause', 'operation.unpause'] });
  });
});

describe('run against a driver that breaks the contract', () => {
  it('exits 1, prints the counterexample and writes a replay file that --replay re-runs', async () => {
    const cwd = tempDir();
    const r = await runCli(['run', '--driver', lying, '--runs', '40', '--seed', '7', '--run-id', 'nc-lying', '--json', 'out/r.json', '--junit', 'out/r.xml'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL \d+ passed, [1-9]\d* failed/m);
    expect(r.stdout).toMatch(/FAILED P-UNSUPPORTED-operation\.rescue/);
    const report = parseJsonReport(readFileSync(join(cwd, 'out/r.json'), 'utf8'));
    expect(report.capabilities.find((c) => c.id === 'operation.rescue')?.status).not.toBe('missing');
    // The non-idempotent pause is caught by the model sequences (as a table cell, or as a repeated call).
    const seq = report.properties.find((p) => p.status === 'failed' && p.counterexample?.replay !== undefined)!;
    expect(['P-MODEL-SEQUENCES', 'P-IDEMPOTENT-REPEAT']).toContain(seq.id);
    const cx = seq.counterexample!;
    expect(cx.rule).toBe('R-PAUSE-PAUSED');
    expect(cx.replayFile).toBe(join(cwd, 'out', `nc-lying-${seq.id}.replay.json`));
    expect(existsSync(cx.replayFile!)).toBe(true);
    expect(r.stdout).toContain(`seed: ${cx.seed}`);
    expect(r.stdout).toContain(`path: ${cx.path}`);
    expect(r.stdout).toContain(`replay with: nova-conformance run --driver ${lying} --replay ${cx.replayFile}`);
    expect(readFileSync(join(cwd, 'out/r.xml'), 'utf8')).toContain('type="R-PAUSE-PAUSED"');

    const again = await runCli(['run', '--driver', lying, '--replay', cx.replayFile!], { cwd });
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/^FAIL P-[A-Z-]+ \(rule R-PAUSE-PAUSED\)/m);

    const fixed = await runCli(['run', '--driver', 'reference', '--replay', cx.replayFile!], { cwd });
    expect(fixed.stdout).toMatch(/^PASS the replayed sequence now passes$/m);
    expect(fixed.code).toBe(0);
  });

  it('the printed replay command repeats --config, and runs as printed', async () => {
    const configured = fileURLToPath(new URL('./fixtures/configured-driver.ts', import.meta.url));
    const cwd = tempDir();
    writeFileSync(join(cwd, 'my config.json'), JSON.stringify({ host: '127.0.0.1' }));
    const r = await runCli(['run', '--driver', configured, '--config', 'my config.json', '--runs', '2', '--seed', '7', '--run-id', 'nc-cfg', '--json', 'r.json'], { cwd });
    expect(r.code).toBe(1);
    const cx = parseJsonReport(readFileSync(join(cwd, 'r.json'), 'utf8')).properties.find((p) => p.counterexample?.replayFile !== undefined)!.counterexample!;
    const config = join(cwd, 'my config.json');
    expect(r.stdout).toContain(`replay with: nova-conformance run --driver ${configured} --config '${config}' --replay ${cx.replayFile}`);
    // As printed (from anywhere: the paths are absolute) it re-runs the failure...
    const again = await runCli(['run', '--driver', configured, '--config', config, '--replay', cx.replayFile!], { cwd: tempDir() });
    expect(again.stderr).toBe('');
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/^FAIL P-[A-Z-]+ \(rule R-PAUSE-PAUSED\)/m);
    // ...where leaving the configuration out is a configuration error.
    const bare = await runCli(['run', '--driver', configured, '--replay', cx.replayFile!], { cwd });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('INVALID_CONFIG');
  });

  it('--driver . (a package directory): the program imports the package entry file, not the directory', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'dir-driver', version: '0.0.1', type: 'module', exports: { '.': { types: './entry.d.ts', import: './entry.ts' } } }));
    writeFileSync(join(dir, 'entry.ts'), `export { manifest } from ${JSON.stringify(lying)};\n`);
    const r = await runCli(['run', '--driver', '.', '--runs', '2', '--seed', '7', '--json', 'r.json'], { cwd: dir });
    expect(r.code).toBe(1);
    const programs = parseJsonReport(readFileSync(join(dir, 'r.json'), 'utf8')).properties.flatMap((p) => (p.counterexample ? [p.counterexample.program] : []));
    expect(programs.length).toBeGreaterThan(0);
    for (const program of programs) {
      expect(program).toContain(`import { manifest } from ${JSON.stringify(join(dir, 'entry.ts'))};`);
      expect(program).not.toContain(`from ${JSON.stringify(dir)};`);
    }
  });

  it('--differential reports the first divergence and exits 1', async () => {
    const cwd = tempDir();
    const r = await runCli(['run', '--driver', 'reference', '--differential', lying, '--runs', '40', '--seed', '7', '--json', 'r.json'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/differential @nova-common\/core\/testing vs lying-driver/);
    expect(r.stdout).toMatch(/DIVERGED at step \d+: pause\(/);
    const report = parseJsonReport(readFileSync(join(cwd, 'r.json'), 'utf8'));
    expect(report.summary.failed).toBe(0);
    expect(report.differential?.drivers).toEqual(['@nova-common/core/testing', 'lying-driver']);
    expect(report.differential?.divergence?.step.op).toBe('pause');
  });

  it('--differential-config configures the compared drivers in order, and its errors are usage errors', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'bad.json'), JSON.stringify({ nodes: -1 }));
    const bad = await runCli(['run', '--driver', 'reference', '--differential', 'reference', '--differential-config', 'bad.json'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/INVALID_CONFIG: .*nodes: /);
    const many = await runCli(['run', '--driver', 'reference', '--differential', 'reference', '--differential-config', 'a.json', 'b.json'], { cwd });
    expect(many.code).toBe(2);
    expect(many.stderr).toContain('2 --differential-config files for 1 --differential drivers');
    writeFileSync(join(cwd, 'same.json'), JSON.stringify({ disabledCapabilities: [] }));
    const same = await runCli(['run', '--driver', 'reference', '--differential', 'reference', '--differential-config', 'same.json', '--runs', '3', '--seed', '2', '--json', 'r.json'], { cwd });
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('no divergence');
    expect(parseJsonReport(readFileSync(join(cwd, 'r.json'), 'utf8')).differential?.drivers).toEqual(['@nova-common/core/testing', '@nova-common/core/testing#2']);
  });

  it('--replay of a file that is not a replay exits non-zero with its name', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'x.json'), '{"format":"something-else"}');
    const r = await runCli(['run', '--driver', 'reference', '--replay', 'x.json'], { cwd });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(join(cwd, 'x.json'));
  });
});

describe('a driver whose backend is down', () => {
  const down = fileURLToPath(new URL('./fixtures/down-driver.ts', import.meta.url));

  it('run exits 1 with the error and says how to sweep', async () => {
    const r = await runCli(['run', '--driver', down, '--run-id', 'nc-down-1', '--json', 'r.json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the run broke; to remove what it left: nova-conformance sweep --driver ${down} --run-id nc-down-1`);
    expect(r.stderr).toMatch(/nova-conformance run: failed: .*BACKEND_UNAVAILABLE.*connection refused by 127\.0\.0\.1:1/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(join(r.cwd, 'r.json'))).toBe(false);
  });

  it('list and sweep exit 1 with the error', async () => {
    for (const argv of [['list', '--driver', down], ['sweep', '--driver', down, '--run-id', 'nc-down-1']]) {
      const r = await runCli(argv);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/failed: .*BACKEND_UNAVAILABLE/);
    }
  });
});
