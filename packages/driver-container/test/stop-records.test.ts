import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StopRecords } from '../src/driver/stop-records.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const run = (Id: string, StartedAt: string) => ({ Id, State: { StartedAt } });

describe('the record of the runs the driver asked to stop', () => {
  it('covers exactly the run noted, survives a new StopRecords on the same directory, and is forgotten with its container', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nova-stops-'));
    const records = new StopRecords(dir, 'owner');
    await records.open('/var/lib/docker');
    expect(await records.asked(run(A, 't1'))).toBe(false);
    await records.note(run(A, 't1'));
    expect(await records.asked(run(A, 't1'))).toBe(true);
    expect(await records.asked(run(A, 't2'))).toBe(false); // a later run of the same container
    expect(await records.asked(run(B, 't1'))).toBe(false);

    const again = new StopRecords(dir, 'owner');
    await again.open('/var/lib/docker');
    expect(await again.asked(run(A, 't1'))).toBe(true);

    await again.forget(A);
    expect(await records.asked(run(A, 't1'))).toBe(false);
  });

  it('keeps the records of each engine and owner apart, and prunes those of containers that are gone', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nova-stops-'));
    const dockerd = new StopRecords(dir, 'owner');
    const podman = new StopRecords(dir, 'owner');
    const otherOwner = new StopRecords(dir, 'other');
    await dockerd.open('/var/lib/docker');
    await podman.open('/var/lib/nova-common/podman/storage');
    await otherOwner.open('/var/lib/docker');
    await dockerd.note(run(A, 't1'));
    await podman.note(run(B, 't1'));
    await otherOwner.note(run(B, 't1'));
    expect(await podman.asked(run(A, 't1'))).toBe(false);
    expect(await dockerd.asked(run(B, 't1'))).toBe(false);

    await dockerd.prune(async () => false);
    expect(await dockerd.asked(run(A, 't1'))).toBe(false);
    expect(await podman.asked(run(B, 't1'))).toBe(true);
    expect(await otherOwner.asked(run(B, 't1'))).toBe(true);
    // Nothing but whole records is left behind (writes go through a temporary file and a rename).
    for (const engineDir of readdirSync(dir)) {
      for (const owner of readdirSync(path.join(dir, engineDir))) {
        for (const f of readdirSync(path.join(dir, engineDir, owner))) expect(f).toMatch(/^[0-9a-f]{64}$/);
      }
    }
  });

  it('refuses what is not a container id (no path can be built from it)', async () => {
    const records = new StopRecords(mkdtempSync(path.join(tmpdir(), 'nova-stops-')), 'owner');
    await records.open('/var/lib/docker');
    await expect(records.note(run('../../etc/passwd', 't'))).rejects.toThrow(/not a container id/);
  });
});
