import { isDriverError } from '@nova-common/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveReference, type Served } from '../helpers/serve.js';
import { slowDriver, type SeenAbort } from '../helpers/slow-driver.js';
import { spec } from '../helpers/specs.js';

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (error) {
    return isDriverError(error) ? error.code : `not a DriverError: ${String(error)}`;
  }
}

/** Wait until `check` holds (the server side learns of a cancellation asynchronously). */
async function eventually(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('deadlines and cancellation cross the wire', () => {
  let served: Served;
  const seen: SeenAbort[] = [];
  beforeAll(async () => {
    served = await serveReference({}, { wrap: (d) => slowDriver(d, 2000, seen) });
  });
  afterAll(async () => served.close());

  it('a call past the caller’s gRPC deadline fails TIMEOUT, and the driver’s signal aborts (nothing changes)', async () => {
    const remote = await served.connect('compute', { timeouts: { reboot: 200 } });
    const s = spec();
    await remote.spawn(s);
    await remote.powerOff(s.uuid);
    seen.length = 0;
    expect(await codeOf(remote.reboot(s.uuid, 'HARD'))).toBe('TIMEOUT');
    await eventually(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ op: 'reboot', code: 'CANCELLED', causeCode: 'TIMEOUT' });
    expect((await served.reference.getInfo(s.uuid)).powerState).toBe('SHUTDOWN');
  });

  it('the client guard’s own timeout cancels the RPC: TIMEOUT here, the driver told to stop there', async () => {
    const remote = await served.connect('compute', {}, { timeouts: { reboot: 150 } });
    const s = spec();
    await remote.spawn(s);
    await remote.powerOff(s.uuid);
    seen.length = 0;
    expect(await codeOf(remote.reboot(s.uuid, 'SOFT'))).toBe('TIMEOUT');
    await eventually(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ op: 'reboot', code: 'CANCELLED', causeCode: 'CANCELLED' });
    expect((await served.reference.getInfo(s.uuid)).powerState).toBe('SHUTDOWN');
  });

  it('aborting the caller’s signal cancels the call: CANCELLED on both sides', async () => {
    const remote = await served.connect();
    const s = spec();
    await remote.spawn(s);
    seen.length = 0;
    const controller = new AbortController();
    const pending = codeOf(remote.rebuild(s.uuid, { image: { id: 'x', diskFormat: 'raw', containerFormat: 'bare' } }, { signal: controller.signal }));
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    expect(await pending).toBe('CANCELLED');
    await eventually(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ op: 'rebuild', code: 'CANCELLED' });
  });

  it('a call whose time is enough completes', async () => {
    const fast = await serveReference({}, { wrap: (d) => slowDriver(d, 50, []) });
    try {
      const remote = await fast.connect();
      const s = spec();
      await remote.spawn(s);
      await remote.reboot(s.uuid, 'HARD');
      expect((await fast.reference.getConsoleOutput(s.uuid)).output).toContain('REBOOTED');
    } finally {
      await fast.close();
    }
  });
});
