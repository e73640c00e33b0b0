import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../src/index.js';

/** A promise with its resolve and reject in hand. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('KeyedQueue', () => {
  it('runs tasks on one key one after another, in call order', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const first = deferred();
    const a = q.run('k', async () => {
      log.push('a start');
      await first.promise;
      log.push('a end');
      return 'a';
    });
    const b = q.run('k', async () => {
      log.push('b start');
      return 'b';
    });
    await tick();
    expect(log).toEqual(['a start']);
    first.resolve();
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
    expect(log).toEqual(['a start', 'a end', 'b start']);
  });

  it('runs tasks on different keys at once', async () => {
    const q = new KeyedQueue();
    const gate = deferred();
    const started: string[] = [];
    const a = q.run('a', async () => {
      started.push('a');
      await gate.promise;
    });
    const b = q.run('b', async () => {
      started.push('b');
    });
    await b;
    expect(started).toEqual(['a', 'b']);
    gate.resolve();
    await a;
  });

  it("a failing task rejects its own caller and does not block the next one", async () => {
    const q = new KeyedQueue();
    const failed = q.run('k', async () => {
      throw new Error('boom');
    });
    const next = q.run('k', async () => 42);
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe(42);
  });

  it('a task that throws synchronously rejects the returned promise', async () => {
    const q = new KeyedQueue();
    const thrower = (() => {
      throw new Error('sync');
    }) as unknown as () => Promise<never>;
    const p = q.run('k', thrower);
    await expect(p).rejects.toThrow('sync');
    await expect(q.run('k', async () => 'after')).resolves.toBe('after');
  });

  it('forgets a key once nothing is queued on it', async () => {
    const q = new KeyedQueue();
    const gate = deferred();
    const a = q.run('x', () => gate.promise);
    const b = q.run('y', async () => undefined);
    expect(q.activeKeys).toBe(2);
    await b;
    await tick();
    expect(q.activeKeys).toBe(1);
    gate.resolve();
    await a;
    await tick();
    expect(q.activeKeys).toBe(0);
  });
});
