import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, RequestIdReused, type Outcome } from '../../src/server/journal.js';
import { tempDir } from '../helpers/serve.js';

const ok = (text: string): Outcome => ({ ok: true, response: Buffer.from(text) });
const failed = (text: string): Outcome => ({ ok: false, error: Buffer.from(text) });
const keepAll = () => true;

describe('the request journal', () => {
  const dirs: (() => void)[] = [];
  afterEach(() => dirs.splice(0).forEach((remove) => remove()));
  const dir = () => {
    const d = tempDir('nova-agent-journal-');
    dirs.push(d.remove);
    return d.dir;
  };

  it('runs a request id once, replays its outcome, and refuses the id for another request', async () => {
    const journal = Journal.inMemory();
    let runs = 0;
    const execute = async () => (runs++, ok('done'));
    expect(await journal.run('r1', 'spawn', 'fp', execute, keepAll)).toStrictEqual(ok('done'));
    expect(await journal.run('r1', 'spawn', 'fp', execute, keepAll)).toStrictEqual(ok('done'));
    expect(runs).toBe(1);
    await expect(journal.run('r1', 'spawn', 'other', execute, keepAll)).rejects.toBeInstanceOf(RequestIdReused);
    await expect(journal.run('r1', 'destroy', 'fp', execute, keepAll)).rejects.toBeInstanceOf(RequestIdReused);
  });

  it('an outcome it does not keep leaves the call unknown: the repeat runs again, told it was interrupted', async () => {
    const journal = Journal.inMemory();
    const told: boolean[] = [];
    const keepOk = (o: Outcome) => o.ok;
    await journal.run('r', 'spawn', 'fp', async (interrupted) => (told.push(interrupted), failed('TIMEOUT')), keepOk);
    await journal.run('r', 'spawn', 'fp', async (interrupted) => (told.push(interrupted), ok('x')), keepOk);
    await journal.run('r', 'spawn', 'fp', async (interrupted) => (told.push(interrupted), ok('y')), keepOk);
    expect(told).toStrictEqual([false, true]);
  });

  it('a waiting duplicate stops waiting when its own signal aborts', async () => {
    const journal = Journal.inMemory();
    let finish!: () => void;
    const first = journal.run('r', 'spawn', 'fp', () => new Promise<Outcome>((resolve) => (finish = () => resolve(ok('a')))), keepAll);
    const controller = new AbortController();
    const second = journal.run('r', 'spawn', 'fp', async () => ok('b'), keepAll, controller.signal);
    controller.abort(new Error('caller gone'));
    await expect(second).rejects.toThrow('caller gone');
    finish();
    expect(await first).toStrictEqual(ok('a'));
  });

  it('survives a restart: ended calls are replayed, begun-only calls are interrupted, torn lines ignored', async () => {
    const d = dir();
    let journal = await Journal.open(d);
    await journal.run('done', 'spawn', 'fp1', async () => ok('one'), keepAll);
    await journal.run('error', 'pause', 'fp2', async () => failed('INSTANCE_NOT_FOUND'), keepAll);
    await journal.run('unknown', 'spawn', 'fp3', async () => failed('TIMEOUT'), (o) => o.ok);
    await journal.close();
    appendFileSync(join(d, 'requests.jsonl'), '{"k":"begin","id":"torn","op":"sp');
    journal = await Journal.open(d);
    const told: boolean[] = [];
    const never = async (): Promise<Outcome> => {
      throw new Error('must not run');
    };
    expect(await journal.run('done', 'spawn', 'fp1', never, keepAll)).toStrictEqual(ok('one'));
    expect(await journal.run('error', 'pause', 'fp2', never, keepAll)).toStrictEqual(failed('INSTANCE_NOT_FOUND'));
    expect(await journal.run('unknown', 'spawn', 'fp3', async (i) => (told.push(i), ok('two')), keepAll)).toStrictEqual(ok('two'));
    expect(await journal.run('torn', 'spawn', 'fp4', async (i) => (told.push(i), ok('three')), keepAll)).toStrictEqual(ok('three'));
    expect(told).toStrictEqual([true, false]);
    await journal.close();
    // Compacted at open: one begin and at most one end per live id, the torn line gone.
    const lines = readFileSync(join(d, 'requests.jsonl'), 'utf8').trim().split('\n');
    expect(lines.every((l) => JSON.parse(l) !== undefined)).toBe(true);
  });

  it('makes a state directory that does not exist yet (0700), and keeps outcomes in it', async () => {
    const d = join(dir(), 'var', 'lib', 'nova-agent');
    const journal = await Journal.open(d);
    expect(statSync(d).mode & 0o777).toBe(0o700);
    await journal.run('r', 'spawn', 'fp', async () => ok('done'), keepAll);
    await journal.close();
    const again = await Journal.open(d);
    let runs = 0;
    expect(await again.run('r', 'spawn', 'fp', async () => (runs++, ok('other')), keepAll)).toStrictEqual(ok('done'));
    expect(runs).toBe(0);
    await again.close();
  });

  it('forgets outcomes past their time to live, and keeps at most maxEntries', async () => {
    const d = dir();
    let now = 1_000_000;
    let journal = await Journal.open(d, { ttlMs: 1000, now: () => now });
    await journal.run('old', 'spawn', 'fp', async () => ok('old'), keepAll);
    now += 5000;
    await journal.close();
    journal = await Journal.open(d, { ttlMs: 1000, now: () => now });
    expect(journal.size).toBe(0);
    let runs = 0;
    await journal.run('old', 'spawn', 'fp', async () => (runs++, ok('again')), keepAll);
    expect(runs).toBe(1);
    const small = Journal.inMemory({ maxEntries: 3 });
    for (let i = 0; i < 10; i++) await small.run(`r${i}`, 'pause', 'fp', async () => ok(String(i)), keepAll);
    expect(small.size).toBe(3);
    await journal.close();
  });
});
