import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TABLE_OPERATIONS, SEMANTIC_STATES } from '@nova-common/core';
import { arrivalKinds, requestedKinds } from '../src/mapping/requested-events.js';
import { REQUESTED_TAIL_MS, RequestedTransitions } from '../src/driver/requested.js';

/** Which events count as the driver's own: the kinds per table column (pinned), and the windows in time. */

describe('event kinds each column can cause (golden)', () => {
  it.each([
    ['spawn', 'ABSENT', ['STARTED', 'RESUMED', 'STOPPED']],
    ['destroy', 'RUNNING', ['STOPPED']],
    ['getInfo', 'RUNNING', []],
    ['powerOff', 'RUNNING', ['STOPPED']],
    ['powerOff', 'PAUSED', ['STOPPED']],
    ['powerOff', 'CRASHED', ['STOPPED', 'STARTED', 'RESUMED', 'PAUSED']],
    ['powerOn', 'SHUTDOWN', ['STARTED', 'RESUMED']],
    ['powerOn', 'CRASHED', ['STARTED', 'RESUMED', 'STOPPED']],
    ['powerOn', 'NOSTATE', ['STARTED', 'RESUMED', 'STOPPED']],
    ['rebootSoft', 'RUNNING', ['STOPPED', 'STARTED', 'RESUMED']],
    ['rebootHard', 'SUSPENDED', ['STOPPED', 'STARTED', 'RESUMED']],
    ['pause', 'RUNNING', ['PAUSED']],
    ['unpause', 'PAUSED', ['RESUMED']],
    ['suspend', 'RUNNING', ['SUSPENDED', 'PAUSED']],
    ['resume', 'SUSPENDED', ['STARTED', 'RESUMED', 'PAUSED']],
    ['rescue', 'RUNNING', ['STOPPED', 'STARTED', 'RESUMED']],
    ['unrescue', 'RESCUE', ['STOPPED', 'STARTED', 'RESUMED']],
    ['rebuild', 'SHUTDOWN', ['STOPPED', 'STARTED', 'RESUMED']],
    ['snapshot', 'RUNNING', ['PAUSED', 'RESUMED']],
    ['attachVolume', 'RUNNING', []],
    ['detachInterface', 'RUNNING', []],
    ['getConsoleOutput', 'RUNNING', []],
    ['restoreStateRunning', 'SHUTDOWN', ['STARTED', 'RESUMED', 'PAUSED', 'STOPPED']],
    ['restoreStateShutdown', 'RUNNING', ['STOPPED']],
    ['restoreStateShutdown', 'CRASHED', ['STOPPED', 'STARTED', 'RESUMED', 'PAUSED']],
    ['restoreStatePaused', 'SUSPENDED', ['STARTED', 'RESUMED', 'PAUSED', 'STOPPED']],
    ['restoreStateSuspended', 'PAUSED', ['SUSPENDED', 'PAUSED']],
  ] as const)('%s from %s', (column, from, kinds) => {
    expect(requestedKinds(column, from)).toEqual(kinds);
  });

  it('no call of the driver ever asks for a crash', () => {
    for (const column of TABLE_OPERATIONS) for (const from of SEMANTIC_STATES) expect(requestedKinds(column, from)).not.toContain('CRASHED');
  });
});

describe('event kinds announcing arrival in a state (golden)', () => {
  it.each([
    ['RUNNING', ['STARTED', 'RESUMED']],
    ['RESCUE', ['STARTED', 'RESUMED']],
    ['PAUSED', ['PAUSED']],
    ['SHUTDOWN', ['STOPPED']],
    ['ABSENT', ['STOPPED']],
    ['SUSPENDED', ['SUSPENDED']],
    ['CRASHED', []],
    ['NOSTATE', []],
  ] as const)('%s', (state, kinds) => {
    expect(arrivalKinds(state)).toEqual(kinds);
  });
});

describe('RequestedTransitions', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('labels an event requested while a call that can cause its kind runs, and out-of-band otherwise', () => {
    const t = new RequestedTransitions();
    expect(t.causeOf('a', 'STOPPED')).toBe('out-of-band');
    const end = t.begin('a', ['STOPPED', 'STARTED', 'RESUMED']); // a reboot
    expect(t.causeOf('a', 'STOPPED')).toBe('requested');
    expect(t.causeOf('a', 'STARTED')).toBe('requested');
    expect(t.causeOf('a', 'PAUSED')).toBe('out-of-band'); // a kind the call cannot cause
    expect(t.causeOf('a', 'CRASHED')).toBe('out-of-band');
    expect(t.causeOf('b', 'STOPPED')).toBe('out-of-band'); // another instance
    end(arrivalKinds('RUNNING'));
    // Just after the reply what announces where the call ended still counts...
    vi.advanceTimersByTime(REQUESTED_TAIL_MS - 1);
    expect(t.causeOf('a', 'STARTED')).toBe('requested');
    // ...and nothing after the tail.
    vi.advanceTimersByTime(1);
    expect(t.causeOf('a', 'STARTED')).toBe('out-of-band');
    expect(t.size).toBe(0);
  });

  it('keeps no tail for a call that failed, nor for one without kinds', () => {
    const t = new RequestedTransitions();
    const failed = t.begin('a', ['PAUSED']);
    const none = t.begin('a', []);
    failed();
    none(['STOPPED']);
    expect(t.causeOf('a', 'PAUSED')).toBe('out-of-band');
    expect(t.causeOf('a', 'STOPPED')).toBe('out-of-band');
    expect(t.size).toBe(0);
  });

  it('ends a tail when the next call on the instance begins, or another event of the instance arrives', () => {
    const t = new RequestedTransitions();
    t.begin('a', ['STARTED', 'RESUMED'])(arrivalKinds('RUNNING'));
    const pause = t.begin('a', ['PAUSED']);
    expect(t.causeOf('a', 'RESUMED')).toBe('out-of-band');
    pause(arrivalKinds('PAUSED'));
    t.begin('b', ['STARTED', 'RESUMED'])(arrivalKinds('RUNNING'));
    expect(t.causeOf('b', 'RESUMED')).toBe('requested'); // a late event: still the call's
    expect(t.causeOf('b', 'STARTED')).toBe('requested');
    expect(t.causeOf('b', 'PAUSED')).toBe('out-of-band'); // someone else's: the tail is over
    expect(t.causeOf('b', 'RESUMED')).toBe('out-of-band');
  });

  it('keeps overlapping calls apart', () => {
    const t = new RequestedTransitions(100);
    const first = t.begin('a', ['PAUSED']);
    const second = t.begin('a', ['RESUMED']);
    first(['PAUSED']);
    first(['PAUSED']); // ending twice changes nothing
    vi.advanceTimersByTime(100);
    expect(t.causeOf('a', 'PAUSED')).toBe('out-of-band');
    expect(t.causeOf('a', 'RESUMED')).toBe('requested');
    second(['RESUMED']);
    vi.advanceTimersByTime(100);
    expect(t.causeOf('a', 'RESUMED')).toBe('out-of-band');
    expect(t.size).toBe(0);
  });
});
