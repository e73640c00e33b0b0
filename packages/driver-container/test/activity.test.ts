import { describe, expect, it } from 'vitest';
import { RequestedActivity } from '../src/driver/activity.js';

const UUID = '0a1b2c3d-2222-4333-8444-555555555555';
const OTHER = '9a1b2c3d-2222-4333-8444-555555555555';
const C1 = 'c1'.repeat(32);

/** A call on UUID running from `start` ms to `end` ms (Date.now() is read at its end). */
function callBetween(a: RequestedActivity, uuid: string, start: number, end: number): void {
  const realNow = Date.now;
  const finish = a.begin(uuid, start);
  Date.now = () => end;
  try {
    finish();
  } finally {
    Date.now = realNow;
  }
}

describe('the cause of a start, pause or unpause', () => {
  it('is requested only when the engine stamped it inside a call on that instance (20 ms of rounding after its end)', () => {
    const a = new RequestedActivity();
    const now = Date.now();
    callBetween(a, UUID, now - 1000, now - 500);
    expect(a.causeAt(UUID, now - 1001)).toBe('out-of-band');
    expect(a.causeAt(UUID, now - 1000)).toBe('requested');
    expect(a.causeAt(UUID, now - 500)).toBe('requested');
    expect(a.causeAt(UUID, now - 480)).toBe('requested');
    expect(a.causeAt(UUID, now - 479)).toBe('out-of-band');
    expect(a.causeAt(OTHER, now - 700)).toBe('out-of-band');
  });

  it('is requested while a call is still running', () => {
    const a = new RequestedActivity();
    const end = a.begin(UUID, Date.now() - 10);
    expect(a.causeAt(UUID, Date.now() + 60_000)).toBe('requested');
    end();
    expect(a.causeAt(UUID, Date.now() + 60_000)).toBe('out-of-band');
  });
});

describe('the cause of the end of a run', () => {
  it('is requested when a call asked that container to end, once; any other end is out-of-band', () => {
    const a = new RequestedActivity();
    const now = Date.now();
    const end = a.begin(UUID, now - 100);
    a.expectExit(C1, now - 90);
    expect(a.causeOfExit(UUID, C1, now - 95)).toBe('out-of-band'); // stamped before the driver asked
    expect(a.causeOfExit(UUID, C1, now - 50)).toBe('requested');
    expect(a.causeOfExit(UUID, C1, now - 40)).toBe('out-of-band'); // the expected end was seen already
    end();
  });

  it('is out-of-band during a call that did not ask the container to end (a crash during a snapshot)', () => {
    const a = new RequestedActivity();
    const now = Date.now();
    const end = a.begin(UUID, now - 100);
    expect(a.causeOfExit(UUID, C1, now - 50)).toBe('out-of-band');
    end();
  });

  it('may come up to 5 s after the asking call ended (podman stamps it from its cleanup process), not later', () => {
    const a = new RequestedActivity();
    const now = Date.now();
    a.expectExit(C1, now - 10_000);
    callBetween(a, UUID, now - 10_000, now - 9_900);
    expect(a.causeOfExit(UUID, C1, now - 4_000)).toBe('out-of-band');
    a.expectExit(C1, now - 3_000);
    callBetween(a, UUID, now - 3_000, now - 2_900);
    expect(a.causeOfExit(UUID, C1, now - 100)).toBe('requested');
  });

  it('a new run forgets an end that never came; a start delivered late (stamped before the ask) does not', () => {
    const a = new RequestedActivity();
    const now = Date.now();
    const end = a.begin(UUID, now - 50);
    a.expectExit(C1, now - 50);
    a.started(C1, now - 60);
    expect(a.causeOfExit(UUID, C1, now - 40)).toBe('requested');
    a.expectExit(C1, now - 30);
    a.started(C1, now - 20);
    expect(a.causeOfExit(UUID, C1, now - 10)).toBe('out-of-band');
    end();
  });
});
