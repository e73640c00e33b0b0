import { describe, expect, it } from 'vitest';
import { DriverError } from '@nova-common/core';
import { CallAbortedError, CallTimeoutError, ConnectionLostError, LibvirtError, ProtocolError } from '../src/client/errors.js';
import { DomainEvent, DomainState, ShutoffReason, StoppedDetail, VirErr } from '../src/client/protocol/remote-types.js';
import { codeForLibvirtError, toContractError } from '../src/mapping/errors.js';
import { mapLifecycleEvent } from '../src/mapping/events.js';
import { isActive, powerStateOf, semanticStateOf } from '../src/mapping/state.js';

/** The driver's mappings of libvirt's values, pinned as tables. */

const libvirtError = (code: number, message = 'libvirt says no') => new LibvirtError({ code, domain: 10, message, level: 2, str1: null, int1: 0 }, 12);

describe('libvirt domain state -> power state', () => {
  it.each([
    ['NOSTATE', DomainState.NOSTATE, false, 'NOSTATE', false],
    ['RUNNING', DomainState.RUNNING, false, 'RUNNING', true],
    ['BLOCKED', DomainState.BLOCKED, false, 'RUNNING', true],
    ['PAUSED', DomainState.PAUSED, false, 'PAUSED', true],
    ['SHUTDOWN (shutting down)', DomainState.SHUTDOWN, false, 'RUNNING', true],
    ['SHUTOFF', DomainState.SHUTOFF, false, 'SHUTDOWN', false],
    ['SHUTOFF with a managed save image', DomainState.SHUTOFF, true, 'SUSPENDED', false],
    ['CRASHED', DomainState.CRASHED, false, 'CRASHED', true],
    ['PMSUSPENDED', DomainState.PMSUSPENDED, false, 'SUSPENDED', true],
  ] as const)('%s', (_label, state, managedSave, power, active) => {
    expect(powerStateOf(state, managedSave)).toBe(power);
    expect(isActive(state)).toBe(active);
  });

  it.each([
    ['unknown (after a libvirtd restart)', ShutoffReason.UNKNOWN, 'SHUTDOWN'],
    ['shut down by the guest', ShutoffReason.SHUTDOWN, 'SHUTDOWN'],
    ['destroyed', ShutoffReason.DESTROYED, 'SHUTDOWN'],
    ['saved', ShutoffReason.SAVED, 'SHUTDOWN'],
    ['QEMU died (crashed)', ShutoffReason.CRASHED, 'CRASHED'],
    ['QEMU failed', ShutoffReason.FAILED, 'CRASHED'],
    ['libvirtd lost it (daemon)', ShutoffReason.DAEMON, 'SHUTDOWN'],
  ] as const)('SHUTOFF with reason %s', (_label, reason, power) => {
    expect(powerStateOf(DomainState.SHUTOFF, false, reason)).toBe(power);
    // A managed save image wins: the saved memory is what resume restores.
    expect(powerStateOf(DomainState.SHUTOFF, true, reason)).toBe('SUSPENDED');
  });

  it('a running instance in rescue mode is in the RESCUE row; rescue mode in any other state is that state', () => {
    expect(semanticStateOf('RUNNING', 'rescue')).toBe('RESCUE');
    expect(semanticStateOf('SHUTDOWN', 'rescue')).toBe('SHUTDOWN');
    expect(semanticStateOf('RUNNING', 'normal')).toBe('RUNNING');
  });
});

describe('libvirt lifecycle event -> contract event', () => {
  it.each([
    ['STARTED', DomainEvent.STARTED, 0, { kind: 'STARTED', powerState: 'RUNNING' }],
    ['RESUMED', DomainEvent.RESUMED, 0, { kind: 'RESUMED', powerState: 'RUNNING' }],
    ['SUSPENDED (paused)', DomainEvent.SUSPENDED, 0, { kind: 'PAUSED', powerState: 'PAUSED' }],
    ['STOPPED shutdown', DomainEvent.STOPPED, StoppedDetail.SHUTDOWN, { kind: 'STOPPED', powerState: 'SHUTDOWN' }],
    ['STOPPED destroyed', DomainEvent.STOPPED, StoppedDetail.DESTROYED, { kind: 'STOPPED', powerState: 'SHUTDOWN' }],
    ['STOPPED saved (managed save)', DomainEvent.STOPPED, StoppedDetail.SAVED, { kind: 'SUSPENDED', powerState: 'SUSPENDED' }],
    ['STOPPED crashed', DomainEvent.STOPPED, StoppedDetail.CRASHED, { kind: 'CRASHED', powerState: 'CRASHED' }],
    ['STOPPED failed (QEMU killed or failing)', DomainEvent.STOPPED, StoppedDetail.FAILED, { kind: 'CRASHED', powerState: 'CRASHED' }],
    ['PMSUSPENDED', DomainEvent.PMSUSPENDED, 0, { kind: 'SUSPENDED', powerState: 'SUSPENDED' }],
    ['CRASHED', DomainEvent.CRASHED, 0, { kind: 'CRASHED', powerState: 'CRASHED' }],
    ['DEFINED (no power change)', DomainEvent.DEFINED, 0, undefined],
    ['UNDEFINED (no power change)', DomainEvent.UNDEFINED, 0, undefined],
    ['SHUTDOWN begun (no power change yet)', DomainEvent.SHUTDOWN, 0, undefined],
  ] as const)('%s', (_label, event, detail, expected) => {
    expect(mapLifecycleEvent(event, detail)).toEqual(expected);
  });
});

describe('libvirt error -> contract error', () => {
  it.each([
    [VirErr.NO_DOMAIN, 'INSTANCE_NOT_FOUND'],
    [VirErr.DOM_EXIST, 'INSTANCE_EXISTS'],
    [VirErr.OPERATION_INVALID, 'INVALID_STATE'],
    [VirErr.NO_SUPPORT, 'UNSUPPORTED'],
    [VirErr.OPERATION_UNSUPPORTED, 'UNSUPPORTED'],
    [VirErr.ARGUMENT_UNSUPPORTED, 'UNSUPPORTED'],
    [VirErr.CONFIG_UNSUPPORTED, 'UNSUPPORTED'],
    [VirErr.XML_ERROR, 'INVALID_INPUT'],
    [VirErr.XML_INVALID_SCHEMA, 'INVALID_INPUT'],
    [VirErr.INVALID_ARG, 'INVALID_INPUT'],
    [VirErr.OPERATION_TIMEOUT, 'TIMEOUT'],
    [VirErr.RESOURCE_BUSY, 'CONFLICT'],
    [VirErr.AGENT_UNRESPONSIVE, 'CONFLICT'],
    [VirErr.INVALID_CONN, 'BACKEND_UNAVAILABLE'],
    [VirErr.RPC, 'BACKEND_UNAVAILABLE'],
    [VirErr.OPERATION_ABORTED, 'CANCELLED'],
    [VirErr.INTERNAL_ERROR, 'INTERNAL'],
    [VirErr.OPERATION_FAILED, 'INTERNAL'],
  ] as const)('virErrorNumber %i -> %s', (code, expected) => {
    expect(codeForLibvirtError(libvirtError(code))).toBe(expected);
    expect(toContractError(libvirtError(code), 'pause', 'u')).toMatchObject({ code: expected, op: 'pause' });
  });

  it('names the libvirt code in the error, and puts refused input into an issue', () => {
    expect(toContractError(libvirtError(VirErr.INTERNAL_ERROR, 'boom'), 'spawn').message).toContain('libvirt error 1: boom');
    expect(toContractError(libvirtError(VirErr.XML_ERROR, 'bad xml'), 'spawn').issues).toEqual([{ path: [], message: 'libvirt refused it: bad xml' }]);
  });

  it('maps the connection failures, and keeps the guard\'s own TIMEOUT when the guard aborted the call', () => {
    expect(toContractError(new ConnectionLostError('gone'), 'getInfo')).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect(toContractError(new CallTimeoutError('slow'), 'getInfo')).toMatchObject({ code: 'TIMEOUT' });
    expect(toContractError(new CallAbortedError('stop'), 'getInfo')).toMatchObject({ code: 'CANCELLED' });
    expect(toContractError(new ProtocolError('garbled'), 'getInfo')).toMatchObject({ code: 'INTERNAL' });
    const deadline = new DriverError('TIMEOUT', { op: 'getInfo', detail: 'no answer within 30000 ms' });
    expect(toContractError(new CallAbortedError('aborted', { cause: deadline }), 'getInfo')).toBe(deadline);
    expect(toContractError(new Error('other'), 'getInfo')).toMatchObject({ code: 'INTERNAL' });
  });
});
