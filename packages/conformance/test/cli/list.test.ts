import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CAPABILITY_IDS, MANDATORY_CAPABILITIES, OPERATIONS, OPERATION_NAMES } from '@nova-common/core';
import { allProperties } from '../../src/properties/catalog.js';
import { runCli, tempDir } from './run-main.js';

function section(stdout: string, heading: RegExp): string[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => heading.test(l));
  expect(start).toBeGreaterThanOrEqual(0);
  const out: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (!l.startsWith('  ')) break;
    out.push(l.trim());
  }
  return out;
}
const ids = (lines: string[]): string[] => lines.map((l) => l.split(/\s+/)[0]!);

async function listWith(config: unknown, extra: string[] = []) {
  const cwd = tempDir();
  writeFileSync(join(cwd, 'config.json'), JSON.stringify(config));
  return runCli(['list', '--driver', 'reference', '--config', 'config.json', ...extra], { cwd });
}

const coreMissing = fileURLToPath(new URL('./fixtures/core-missing-driver.ts', import.meta.url));

describe('list', () => {
  it('an invalid capability declaration is refused as run refuses it, naming the field, exit 1', async () => {
    const r = await runCli(['list', '--driver', coreMissing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/core-missing-driver 0\.0\.1: its capability declaration is invalid/);
    expect(r.stderr).toMatch(/^  capabilities\.storage\.image: /m);
    expect(r.stdout).toBe('');
  });

  it('the reference driver with everything enabled: all UNSUPPORTED properties skipped, and those needing a backend witness (it offers none), the rest run', async () => {
    const r = await runCli(['list', '--driver', 'reference']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^driver @nova-common\/core\/testing \d+\.\d+\.\d+ \(contract \^1\.2\.0\)$/m);
    const run = ids(section(r.stdout, /^properties that would run \(\d+\):$/));
    const skipped = ids(section(r.stdout, /^properties that would be skipped \(\d+\):$/));
    expect(run).toContain('P-MODEL-SEQUENCES');
    expect(run).toContain('P-EVENTS');
    expect(run.some((id) => id.startsWith('P-UNSUPPORTED-'))).toBe(false);
    expect([...run, ...skipped].sort()).toEqual(allProperties().map((p) => p.id).sort());
    const optional = CAPABILITY_IDS.filter((id) => !MANDATORY_CAPABILITIES.includes(id));
    expect(skipped.sort()).toEqual([...optional.map((id) => `P-UNSUPPORTED-${id}`), 'P-BACKEND-WITNESS', 'P-RESTART'].sort());
    expect(r.stdout).toMatch(/P-BACKEND-WITNESS +no witness given/);
  });

  it('disabled capabilities show as missing and get their UNSUPPORTED property; events off skips P-EVENTS', async () => {
    const r = await listWith({ disabledCapabilities: ['operation.pause', 'operation.rescue', 'event.lifecycle'] });
    expect(r.code).toBe(0);
    const caps = section(r.stdout, /^capabilities declared:$/);
    expect(caps).toContain('lifecycle (not supported)');
    expect(caps.find((l) => l.startsWith('operation.pause '))).toMatch(/^operation\.pause +missing +Stop instance CPUs \(pause\)$/);
    expect(caps.find((l) => l.startsWith('operation.rescue '))).toMatch(/ missing /);
    expect(caps.find((l) => l.startsWith('operation.unpause '))).toMatch(/ complete /);
    const run = ids(section(r.stdout, /^properties that would run/));
    expect(run.filter((id) => id.startsWith('P-UNSUPPORTED-')).sort()).toEqual([
      'P-UNSUPPORTED-event.lifecycle',
      'P-UNSUPPORTED-operation.pause',
      'P-UNSUPPORTED-operation.rescue',
    ]);
    const skipped = section(r.stdout, /^properties that would be skipped/);
    expect(skipped.find((l) => l.startsWith('P-EVENTS '))).toMatch(/event\.lifecycle is not declared$/);
    expect(skipped.find((l) => l.startsWith('P-UNSUPPORTED-operation.unpause '))).toMatch(/operation\.unpause is declared complete$/);
  });

  it('lists every operation of the registry with its capability, the declared level and its table columns', async () => {
    const r = await listWith({ disabledCapabilities: ['operation.pause'] }, ['--profile', 'power']);
    expect(r.code).toBe(0);
    const ops = section(r.stdout, /^operations \(/);
    expect(ids(ops)).toEqual([...OPERATION_NAMES]);
    const line = (op: string): string => ops.find((l) => l.split(/\s+/)[0] === op)!;
    expect(line('pause')).toMatch(/^pause +operation\.pause +missing \(filtered out\) +pause$/);
    expect(line('reboot')).toMatch(/^reboot +operation\.reboot +complete +rebootSoft, rebootHard$/);
    expect(line('initHost')).toMatch(/^initHost +- +always +-$/);
    for (const op of OPERATION_NAMES) {
      const cap = OPERATIONS[op].capability;
      expect(line(op).split(/\s+/)[1], op).toBe(cap ?? '-');
    }
  });

  it('--profile filters: the other profiles\' UNSUPPORTED properties are skipped as filtered out', async () => {
    const r = await listWith({ disabledCapabilities: ['operation.pause', 'operation.snapshot'] }, ['--profile', 'power', 'lifecycle']);
    expect(r.code).toBe(0);
    const caps = section(r.stdout, /^capabilities declared:$/);
    expect(caps).toContain('snapshot (not supported, filtered out)');
    expect(caps).toContain('power (supported)');
    const run = ids(section(r.stdout, /^properties that would run/));
    expect(run).toContain('P-UNSUPPORTED-operation.pause');
    const skipped = section(r.stdout, /^properties that would be skipped/);
    expect(skipped.find((l) => l.startsWith('P-UNSUPPORTED-operation.snapshot '))).toMatch(/operation\.snapshot is outside the selected profiles$/);
  });

  it('--only keeps the named properties', async () => {
    const r = await listWith({}, ['--only', 'P-INFO-UNKNOWN', 'P-LIST-OWNED']);
    expect(ids(section(r.stdout, /^properties that would run/))).toEqual(['P-INFO-UNKNOWN', 'P-LIST-OWNED']);
    expect(section(r.stdout, /^properties that would be skipped/).find((l) => l.startsWith('P-MODEL-SEQUENCES '))).toMatch(/not selected \(only\)$/);
  });
});
