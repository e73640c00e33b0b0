import { describe, expect, it } from 'vitest';
import { toMatrixText, toTerminalSummary } from '../../src/report/terminal.js';
import { loadFixture } from './load-fixtures.js';

describe('toTerminalSummary', () => {
  it('lists each property with pass, fail or skip', () => {
    const result = loadFixture('ironic-filtered');
    const text = toTerminalSummary(result);
    for (const p of result.properties) {
      const line = text.split('\n').find((l) => l.includes(` ${p.id} `))!;
      expect(line).toMatch(p.status === 'passed' ? /^ {2}pass / : p.status === 'failed' ? /^ {2}FAIL / : /^ {2}skip /);
      if (p.status === 'skipped') expect(line).toMatch(new RegExp(`${p.id} +${p.reason}$`));
    }
    expect(text).toContain(`PASS ${result.summary.passed} passed, 0 failed, ${result.summary.skipped} skipped`);
  });

  it('ends with the work done when the run reports it', () => {
    const text = toTerminalSummary(loadFixture('reference-pass'));
    expect(text.trimEnd().split('\n').at(-1)).toBe('PASS 3 passed, 0 failed, 0 skipped in 3.5s (500 model steps, 1730 driver calls)');
  });

  it('on failure prints seed, path, rule, shrunk steps, program and the replay file', () => {
    const result = loadFixture('libvirt-failure');
    const cx = result.properties.find((p) => p.status === 'failed')!.counterexample!;
    const text = toTerminalSummary(result, { driverSpecifier: './drivers/lv' });
    expect(text).toContain('FAILED P-MODEL-SEQUENCES');
    expect(text).toContain(`rule ${cx.rule}`);
    expect(text).toContain(`seed: ${cx.seed}`);
    expect(text).toContain(`path: ${cx.path}`);
    expect(text).toContain('shrunk steps (3):');
    expect(text).toContain('    3. suspend("3f1c8d4e-0000-4000-8000-000000000001") expected INVALID_STATE, got ok');
    expect(text).toContain(`\n  await d.spawn({ name: "a|b*c_\`d\`" });`);
    expect(text).toContain(`replay file: ${cx.replayFile}`);
    expect(text).toContain(`replay with: nova-conformance run --driver ./drivers/lv --replay ${cx.replayFile}`);
    expect(text.trimEnd().split('\n').at(-1)).toMatch(/^FAIL 3 passed, 1 failed, 0 skipped in 3\.5s$/);
  });

  it('includes the matrix as a plain table', () => {
    const text = toTerminalSummary(loadFixture('libvirt-failure'));
    expect(text).toMatch(/Stop instance CPUs \(pause\) +operation\.pause +partial \(0\/1 property passed, 7 runs\)/);
    expect(text).toMatch(/Rescue instance +operation\.rescue +missing \(1\/1 property passed, 5 runs\)/);
  });

  it('never prints control characters from a report (no terminal escapes)', () => {
    const result = loadFixture('libvirt-failure');
    result.driver = { ...result.driver, name: 'evil\u001b[2J\u001b]0;title\u0007' };
    const text = toTerminalSummary(result);
    expect(text).not.toContain('\u001b');
    expect(text).toContain('evil\\x1b[2J');
  });

  it('colours only when asked', () => {
    expect(toTerminalSummary(loadFixture('reference-pass'))).not.toContain('\u001b[');
    expect(toTerminalSummary(loadFixture('reference-pass'), { color: true })).toContain('\u001b[32mpass\u001b[0m');
  });
});

describe('toMatrixText', () => {
  it('puts drivers side by side with aligned columns', () => {
    const text = toMatrixText([loadFixture('reference-pass'), loadFixture('ironic-filtered')]);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^Capability +Id +@nova-common\/core\/testing 1\.0\.0 +@nova-common\/driver-ironic 1\.0\.0$/);
    const col = lines[0]!.indexOf('@nova-common/driver-ironic');
    const attach = lines.find((l) => l.startsWith('Attach block volume'))!;
    expect(attach.slice(col)).toBe('unknown');
  });
});
