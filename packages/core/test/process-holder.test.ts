import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { currentHolder, holderIsGone } from '../src/toolkit/process-holder.js';

/** The fields of /proc/<pid>/stat from field 3 (state) on. */
function statOf(pid: string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** A child process (sleep) and the holder string it would write: this one's, with its pid and start time. */
async function childHolder(): Promise<{ holder: string; exit: () => Promise<void> }> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  const started = statOf(String(child.pid))[19]!;
  const parts = currentHolder().split(':');
  parts[3] = String(child.pid);
  parts[4] = started;
  return {
    holder: parts.join(':'),
    exit: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

describe('process holders', () => {
  it('names this process by boot, pid namespace, pid and start time', () => {
    expect(currentHolder()).toMatch(new RegExp(`^h1:[0-9a-f-]{36}:[0-9]+:${process.pid}:[0-9]+$`));
  });

  it('a living process is not gone; the same one after it died is', async () => {
    const child = await childHolder();
    expect(child.holder.split(':')[3]).not.toBe(String(process.pid));
    expect(holderIsGone(child.holder)).toBe(false);
    await child.exit();
    expect(holderIsGone(child.holder)).toBe(true);
  });

  it('a zombie (dead, not yet reaped by its parent) is gone', async () => {
    // sh starts a short sleep, then becomes a long one that never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0.1 & exec sleep 60'], { stdio: 'ignore' });
    try {
      let zombie: string | undefined;
      for (let i = 0; i < 100 && zombie === undefined; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const kids = readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
        zombie = kids.find((k) => statOf(k)[0] === 'Z');
      }
      expect(zombie).toBeDefined();
      const parts = currentHolder().split(':');
      parts[3] = zombie!;
      parts[4] = statOf(zombie!)[19]!;
      expect(holderIsGone(parts.join(':'))).toBe(true);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('a reused pid (same pid, another start time) is gone', () => {
    const parts = currentHolder().split(':');
    parts[4] = String(Number(parts[4]) + 1);
    expect(holderIsGone(parts.join(':'))).toBe(true);
    expect(holderIsGone(currentHolder())).toBe(false);
  });

  it('is never sure of another boot, another pid namespace, or a holder it cannot read', () => {
    const parts = currentHolder().split(':');
    const otherBoot = [...parts];
    otherBoot[1] = '00000000-0000-0000-0000-000000000000';
    otherBoot[3] = '999999999';
    const otherNs = [...parts];
    otherNs[2] = '1';
    otherNs[3] = '999999999';
    for (const h of [otherBoot.join(':'), otherNs.join(':'), '', 'h0:x', 'h1:a:b:c:d', `h1:${parts[1]}:${parts[2]}:0:1`, `h1:${parts[1]}:${parts[2]}:../1:1`]) {
      expect(holderIsGone(h), h).toBe(false);
    }
  });
});
