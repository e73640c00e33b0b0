import { guard, isDriverError, type ComputeDriver } from '@nova-common/core';
import { createReferenceDriver } from '@nova-common/core/testing';
import { describe, expect, it } from 'vitest';
import { HangBreaker } from '../src/run/hang-breaker.js';

const FULL_MS = 300;
const FLOOR_MS = 50;
const GRACE_MS = 100;
const UUID = '7d0c7d8e-4b0e-4c7a-9f5e-3a1b2c3d4e5f';

/** The reference driver, whose pause never answers and ignores its signal (or honours it). */
function hangingPause(honoursSignal: boolean): ComputeDriver {
  const inner = createReferenceDriver();
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop !== 'pause') {
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      }
      return (_uuid: string, options?: { signal?: AbortSignal }) =>
        new Promise((_, reject) => {
          if (honoursSignal) options?.signal?.addEventListener('abort', () => reject(options.signal!.reason));
        });
    },
  });
}

async function setUp(honoursSignal: boolean, timeouts: { pause: number } = { pause: FULL_MS }) {
  const breaker = new HangBreaker(() => FULL_MS, FLOOR_MS, GRACE_MS);
  const driver = guard(breaker.wrap(hangingPause(honoursSignal)), { timeouts });
  await driver.initHost();
  await driver.spawn({
    uuid: UUID,
    name: 'hb',
    flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 0 },
    image: { id: 'img', diskFormat: 'raw', containerFormat: 'bare' },
  });
  return { breaker, driver };
}

const codeOf = async (p: Promise<unknown>): Promise<{ code: string; message: string }> => {
  try {
    await p;
    return { code: 'ok', message: '' };
  } catch (e) {
    return isDriverError(e) ? { code: e.code, message: e.message } : { code: String(e), message: '' };
  }
};

describe('the hang breaker', () => {
  it('lets go of a call that ran out its full timeout and ignores its signal, so the instance is usable again', async () => {
    const { breaker, driver } = await setUp(false);
    expect((await codeOf(driver.pause(UUID))).code).toBe('TIMEOUT');
    expect(breaker.fullHangs.get('pause')).toBe(1);
    // Without the breaker this getInfo would queue behind the hung pause until its own timeout.
    const info = await driver.getInfo(UUID);
    expect(info.powerState).toBe('RUNNING');
    await driver.cleanupHost();
  });

  it('gives the later calls of a hung operation a short timeout that says why', async () => {
    const { breaker, driver } = await setUp(false);
    await codeOf(driver.pause(UUID));
    expect(breaker.shortTimeoutMs('pause')).toBe(FLOOR_MS);
    expect(breaker.shortTimeoutMs('unpause')).toBeUndefined();
    const again = await codeOf(driver.pause(UUID));
    expect(again.code).toBe('TIMEOUT');
    expect(again.message).toContain(`already ran out its full ${FULL_MS} ms timeout earlier in this run`);
    expect(breaker.fullHangs.get('pause')).toBe(1);
    expect(breaker.shortened.get('pause')).toBe(1);
    // A cut is no answer: the short timeout does not grow with the calls it cut.
    expect(breaker.shortTimeoutMs('pause')).toBe(FLOOR_MS);
    expect((await codeOf(driver.pause(UUID))).code).toBe('TIMEOUT');
    expect(breaker.shortened.get('pause')).toBe(2);
    await driver.cleanupHost();
  });

  it('leaves a driver that honours its signal to let go itself', async () => {
    const { breaker, driver } = await setUp(true);
    const r = await codeOf(driver.pause(UUID));
    expect(r.code).toBe('TIMEOUT');
    expect(r.message).toContain(`no answer within ${FULL_MS} ms`);
    expect(breaker.fullHangs.get('pause')).toBe(1);
    expect((await driver.getInfo(UUID)).powerState).toBe('RUNNING');
    await driver.cleanupHost();
  });

  it('learns nothing from a call cut short by a timeout shorter than the full one (an injected hang)', async () => {
    const { breaker, driver } = await setUp(true, { pause: 20 });
    expect((await codeOf(driver.pause(UUID))).code).toBe('TIMEOUT');
    expect(breaker.fullHangs.get('pause')).toBeUndefined();
    expect(breaker.shortTimeoutMs('pause')).toBeUndefined();
    await driver.cleanupHost();
  });

  it('hands every other member of the driver through, bound to it (private fields included)', async () => {
    class Counting {
      #calls = 0;
      get calls(): number {
        return this.#calls;
      }
      async getInfo(): Promise<string> {
        this.#calls++;
        return 'ok';
      }
      extra(): number {
        return this.#calls * 10;
      }
    }
    const raw = new Counting();
    const wrapped = new HangBreaker(() => FULL_MS, FLOOR_MS, GRACE_MS).wrap(raw as unknown as ComputeDriver) as unknown as Counting;
    expect(await wrapped.getInfo()).toBe('ok');
    expect(wrapped.calls).toBe(1);
    expect(wrapped.extra()).toBe(10);
  });
});
