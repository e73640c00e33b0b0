import { describe, expect, it } from 'vitest';
import { CONTRACT_VERSION } from '@nova-common/core';
import { COMMANDS, HELP, MAIN_HELP } from '../../src/cli/help.js';
import { SUITE_VERSION } from '../../src/version.js';
import pkg from '../../package.json' with { type: 'json' };
import { runCli } from './run-main.js';

describe('--help and --version', () => {
  it('--version prints the suite and contract versions', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(SUITE_VERSION).toBe(pkg.version);
    expect(r.stdout).toBe(`nova-conformance ${pkg.version} (contract ${CONTRACT_VERSION})\n`);
  });

  it('--help lists every command', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(MAIN_HELP);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c} +\\S`, 'm'));
  });

  it('no command prints the help and exits 2', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('Usage: nova-conformance <command>');
  });

  it.each(COMMANDS)('%s --help prints that command\'s usage and exits 0', async (command) => {
    for (const flag of ['--help', '-h']) {
      const r = await runCli([command, flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(HELP[command]);
      expect(r.stdout.startsWith(`Usage: nova-conformance ${command}`)).toBe(true);
      expect(r.stderr).toBe('');
    }
  });

  it('--help wins over other flags, even invalid ones', async () => {
    const r = await runCli(['run', '--runs', 'many', '--bogus', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(HELP.run);
  });

  it('every flag the run help documents is accepted by the parser', async () => {
    const flags = [...HELP.run.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]!);
    expect(flags).toEqual(expect.arrayContaining(['--driver', '--config', '--profile', '--runs', '--steps', '--seed', '--replay', '--junit', '--json', '--matrix', '--html', '--run-id', '--label', '--differential']));
    for (const flag of flags.filter((f) => f !== '--help')) {
      const r = await runCli(['run', flag, 'x']);
      expect(r.stderr).not.toMatch(/unknown option/);
    }
  });
});

describe('usage errors exit 2', () => {
  it('an unknown command', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });

  it.each([
    [['run', '--driver', 'reference', '--bogus'], /unknown option '--bogus'/],
    [['run', '--driver'], /--driver/],
    [['run'], /--driver is required/],
    [['run', '--driver', 'reference', '--runs', 'many'], /--runs must be an integer, got "many"/],
    [['run', '--driver', 'reference', '--runs', '0'], /--runs must be between 1 and/],
    [['run', '--driver', 'reference', '--steps', '1.5'], /--steps must be an integer/],
    [['run', '--driver', 'reference', '--seed', '99999999999'], /--seed must be between/],
    [['run', '--driver', 'reference', '--profile', 'warp-drive'], /unknown profile "warp-drive"; profiles are: core, power/],
    [['run', '--driver', 'reference', '--run-id', 'has space'], /runId must be/],
    [['run', '--driver', 'reference', '--label', '  '], /label must be 1-80 characters/],
    [['run', '--driver', 'reference', '--label', 'two\nlines'], /label must be 1-80 characters/],
    [['run', '--driver', 'reference', 'stray'], /unexpected argument "stray"/],
    [['run', '--driver', 'reference', '--replay', 'r.json', '--differential', 'reference'], /cannot be combined/],
    [['list'], /--driver is required/],
    [['sweep', '--driver', 'reference'], /--run-id is required/],
    [['sweep', '--driver', 'reference', '--run-id', '../etc'], /--run-id must be/],
    [['matrix'], /give at least one report/],
    [['matrix', '--json', 'absent.json'], /cannot read report .*absent\.json: ENOENT/],
  ])('%j', async (argv, message) => {
    const r = await runCli(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(`Run \`nova-conformance ${argv[0]} --help\` for usage.`);
    expect(r.stdout).toBe('');
  });
});
