/**
 * How the driver tells its own transitions (`requested`) from the ones nobody asked it for
 * (`out-of-band`), and which event each change of power state gives (src/driver/events.ts).
 */
import { describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '@nova-common/core';
import { IronicEvents, eventKindOf } from '../../src/driver/events.js';
import type { IronicNode } from '../../src/client/types.js';

const U = '22222222-2222-4222-8222-222222222222';
const node = (power: string | null, over: Partial<IronicNode> = {}): IronicNode => ({
  uuid: '11111111-1111-4111-8111-111111111111',
  provision_state: 'active',
  power_state: power,
  instance_uuid: U,
  ...over,
});

function setup(): { events: IronicEvents; seen: LifecycleEvent[] } {
  const events = new IronicEvents(true);
  const seen: LifecycleEvent[] = [];
  events.subscribe((e) => seen.push(e));
  return { events, seen };
}
const summary = (seen: LifecycleEvent[]) => seen.map((e) => `${e.kind} ${e.powerState} ${e.cause}`);

describe('event kinds (as the reference driver names them)', () => {
  it.each([
    [undefined, 'RUNNING', 'STARTED'],
    ['SHUTDOWN', 'RUNNING', 'STARTED'],
    ['CRASHED', 'RUNNING', 'STARTED'],
    ['NOSTATE', 'RUNNING', 'STARTED'],
    ['RUNNING', 'SHUTDOWN', 'STOPPED'],
    ['CRASHED', 'SHUTDOWN', 'STOPPED'],
    ['RUNNING', 'CRASHED', 'CRASHED'],
    ['SHUTDOWN', 'CRASHED', 'CRASHED'],
    ['RUNNING', 'NOSTATE', undefined],
    ['RUNNING', 'RUNNING', undefined],
  ] as const)('%s -> %s: %s', (before, after, kind) => {
    expect(eventKindOf(before, after)).toBe(kind);
  });
});

describe('requested or out-of-band', () => {
  it('the first look records silently; a later difference is out-of-band; a call\'s own change is requested', () => {
    const { events, seen } = setup();
    events.observe(U, node('power on'));
    expect(seen).toEqual([]);
    events.observe(U, node('power off'));
    events.begin(U);
    events.observe(U, node('power off')); // the call's own look: nothing new
    events.afterTransition(U, 'SHUTDOWN', node('power on'));
    events.end(U, true);
    events.observe(U, node('power on', { provision_state: 'deploy failed' }));
    expect(summary(seen)).toEqual(['STOPPED SHUTDOWN out-of-band', 'STARTED RUNNING requested', 'CRASHED CRASHED out-of-band']);
  });

  it('a poll ignores an instance a call is acting on, and a look that started before a newer one', () => {
    const { events, seen } = setup();
    events.observe(U, node('power on'));
    events.begin(U);
    events.observePolled(U, node('power off'), events.epochs()); // mid-call: the call's business
    const stale = events.epochs();
    events.afterTransition(U, 'RUNNING', node('power off'));
    events.end(U, true);
    events.observePolled(U, node('power on'), stale); // sent before the call ended: older than what we know
    expect(summary(seen)).toEqual(['STOPPED SHUTDOWN requested']);
    events.observePolled(U, node('power on'), events.epochs());
    expect(summary(seen)).toEqual(['STOPPED SHUTDOWN requested', 'STARTED RUNNING out-of-band']);
  });

  it('after a call that failed midway, what it left is recorded silently; a refused call keeps what was known', () => {
    const { events, seen } = setup();
    events.observe(U, node('power on'));
    events.begin(U);
    events.end(U, false);
    events.observe(U, node('power off'));
    expect(seen).toEqual([]);
    events.begin(U);
    events.end(U, true);
    events.observe(U, node('power on'));
    expect(summary(seen)).toEqual(['STARTED RUNNING out-of-band']);
  });

  it('an instance gone from a poll is forgotten without an event; a destroy of a running one is STOPPED, requested', () => {
    const { events, seen } = setup();
    events.observe(U, node('power on'));
    events.forgetMissing(new Set(), events.epochs());
    events.observe(U, node('power off')); // seen afresh: recorded silently
    expect(seen).toEqual([]);
    events.afterDestroy(U, 'RESCUE', node('power on', { provision_state: 'rescue' }));
    expect(summary(seen)).toEqual(['STOPPED SHUTDOWN requested']);
  });

  it('the out-of-band poller is wanted while there are listeners', () => {
    const events = new IronicEvents(true);
    const counts: number[] = [];
    events.onListeners = (n) => counts.push(n);
    const off1 = events.subscribe(() => undefined);
    const off2 = events.subscribe(() => undefined);
    off1();
    off1();
    off2();
    expect(counts).toEqual([1, 2, 1, 0]);
  });

  it('with events off, subscribing is UNSUPPORTED', () => {
    expect(() => new IronicEvents(false).subscribe(() => undefined)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });
});
