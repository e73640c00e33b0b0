import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../src/client/types.js';
import { mapEngineEvent, sinceOf } from '../src/mapping/events.js';

const event = (action: string): EngineEvent => ({ Type: 'container', Action: action, Actor: { ID: 'c1', Attributes: {} }, time: 1, timeNano: 1 });

describe('engine events -> lifecycle events', () => {
  it.each([
    ['start', false, { kind: 'STARTED', power: 'RUNNING' }],
    ['unpause', false, { kind: 'RESUMED', power: 'RUNNING' }],
    ['pause', false, { kind: 'PAUSED', power: 'PAUSED' }],
    ['die', false, { kind: 'STOPPED', power: 'SHUTDOWN' }],
    ['die', true, { kind: 'CRASHED', power: 'CRASHED' }],
    ['died', false, { kind: 'STOPPED', power: 'SHUTDOWN' }],
    ['died', true, { kind: 'CRASHED', power: 'CRASHED' }],
    ['oom', false, undefined],
    ['create', false, undefined],
    ['destroy', false, undefined],
    ['rename', false, undefined],
    ['kill', false, undefined],
  ] as const)('%s (oom seen: %s) -> %j', (action, oomSeen, expected) => {
    expect(mapEngineEvent(event(action), oomSeen)).toEqual(expected);
  });
});

describe('the since value of a reopened stream', () => {
  it('is seconds and nine digits of nanoseconds', () => {
    expect(sinceOf(1_700_000_000_000_000_000)).toBe('1700000000.000000000');
    expect(sinceOf(1_700_000_000_123_456_768)).toMatch(/^1700000000\.1234567\d\d$/);
    expect(sinceOf(5_000_000_001)).toBe('5.000000001');
    expect(sinceOf(999)).toBe('0.000000999');
  });
});
