import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../src/client/types.js';
import { mapEngineEvent, sinceOf } from '../src/mapping/events.js';

const event = (action: string, attributes: Record<string, string> = {}): EngineEvent => ({
  Type: 'container',
  Action: action,
  Actor: { ID: 'c1', Attributes: attributes },
  time: 1,
  timeNano: 1,
});

describe('engine events -> lifecycle events', () => {
  const plain = { oomSeen: false, requested: false };
  it.each([
    ['start', {}, plain, { kind: 'STARTED', power: 'RUNNING' }],
    ['unpause', {}, plain, { kind: 'RESUMED', power: 'RUNNING' }],
    ['pause', {}, plain, { kind: 'PAUSED', power: 'PAUSED' }],
    // A run nobody asked to stop: clean exits (the guest halted, or SIGTERM from anyone) are STOPPED, the rest CRASHED.
    ['die', { exitCode: '0' }, plain, { kind: 'STOPPED', power: 'SHUTDOWN' }],
    ['die', { exitCode: '143' }, plain, { kind: 'STOPPED', power: 'SHUTDOWN' }],
    ['die', { exitCode: '137' }, plain, { kind: 'CRASHED', power: 'CRASHED' }],
    ['die', { exitCode: '1' }, plain, { kind: 'CRASHED', power: 'CRASHED' }],
    ['die', { exitCode: '143' }, { oomSeen: true, requested: false }, { kind: 'CRASHED', power: 'CRASHED' }],
    // A stop the driver asked for is STOPPED however it ended (a forced stop is a SIGKILL).
    ['die', { exitCode: '137' }, { oomSeen: false, requested: true }, { kind: 'STOPPED', power: 'SHUTDOWN' }],
    ['die', { exitCode: '137' }, { oomSeen: true, requested: true }, { kind: 'STOPPED', power: 'SHUTDOWN' }],
    // podman's die carries both attributes; its own action name is mapped alike.
    ['died', { containerExitCode: '137', exitCode: '137' }, plain, { kind: 'CRASHED', power: 'CRASHED' }],
    ['died', { containerExitCode: '143' }, plain, { kind: 'STOPPED', power: 'SHUTDOWN' }],
    ['die', {}, plain, { kind: 'STOPPED', power: 'SHUTDOWN' }],
    ['oom', {}, plain, undefined],
    ['create', {}, plain, undefined],
    ['destroy', {}, plain, undefined],
    ['rename', {}, plain, undefined],
    ['kill', { signal: '9' }, plain, undefined],
  ] as const)('%s %j (%j) -> %j', (action, attributes, reading, expected) => {
    expect(mapEngineEvent(event(action, attributes), reading)).toEqual(expected);
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
