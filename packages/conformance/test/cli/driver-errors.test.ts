import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './run-main.js';

describe('driver and configuration errors exit 2 with the loader\'s message', () => {
  it('a driver package that is not installed: NOT_INSTALLED and where it looked', async () => {
    const cwd = tempDir();
    for (const command of ['run', 'list', 'sweep']) {
      const runId = command === 'sweep' ? ['--run-id', 'x1'] : [];
      const r = await runCli([command, '--driver', '@example/no-such-driver', ...runId], { cwd });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/NOT_INSTALLED: cannot load driver "@example\/no-such-driver"/);
      expect(r.stderr).toContain(join(cwd, 'node_modules'));
    }
  });

  it('a path to a module that is not a driver: NOT_A_DRIVER', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'not-a-driver.mjs'), 'export const hello = 1;\n');
    const r = await runCli(['list', '--driver', './not-a-driver.mjs'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/NOT_A_DRIVER: .*It exports: hello/);
  });

  it('a config file that is not JSON names the file', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'bad.json'), '{ "nodes": 2, }');
    const r = await runCli(['list', '--driver', 'reference', '--config', 'bad.json'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`config file ${join(cwd, 'bad.json')} is not valid JSON`);
  });

  it('a config file that cannot be read', async () => {
    const cwd = tempDir();
    mkdirSync(join(cwd, 'dir.json'));
    const r1 = await runCli(['list', '--driver', 'reference', '--config', 'missing.json'], { cwd });
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/cannot read config file .*missing\.json: ENOENT/);
    const r2 = await runCli(['list', '--driver', 'reference', '--config', 'dir.json'], { cwd });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/cannot read config file .*dir\.json: EISDIR/);
  });

  it('an invalid configuration lists every offending field path', async () => {
    const cwd = tempDir();
    writeFileSync(
      join(cwd, 'config.json'),
      JSON.stringify({ nodes: 0, capacity: { vcpus: 'lots' }, disabledCapabilities: ['operation.teleport'], colour: 'blue' }),
    );
    for (const command of ['run', 'list']) {
      const r = await runCli([command, '--driver', 'reference', '--config', 'config.json'], { cwd });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/INVALID_CONFIG: cannot load driver "reference" \(package @nova-common\/core\/testing\)/);
      expect(r.stderr).toMatch(/\bnodes: /);
      expect(r.stderr).toMatch(/\bcapacity\.vcpus: /);
      expect(r.stderr).toMatch(/\bdisabledCapabilities\.0: /);
      expect(r.stderr).toMatch(/colour/);
    }
  });

  it('a mandatory capability cannot be disabled', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'config.json'), JSON.stringify({ disabledCapabilities: ['operation.launch'] }));
    const r = await runCli(['list', '--driver', 'reference', '--config', 'config.json'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/disabledCapabilities: mandatory capabilities/);
  });
});
