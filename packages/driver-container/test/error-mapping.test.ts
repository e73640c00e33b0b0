import { describe, expect, it } from 'vitest';
import { DriverError } from '@nova-common/core';
import { EngineAbortedError, EngineHttpError, EngineUnavailableError } from '../src/client/errors.js';
import { toContractError } from '../src/mapping/errors.js';

const UUID = '0a1b2c3d-2222-4333-8444-555555555555';

describe('engine errors -> contract errors', () => {
  it.each([
    [new EngineUnavailableError('GET', '/info', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), 'BACKEND_UNAVAILABLE'],
    [new EngineHttpError(404, 'GET', '/containers/x/json', 'No such container: x'), 'INSTANCE_NOT_FOUND'],
    [new EngineHttpError(404, 'GET', '/images/x/json', 'No such image: x'), 'INTERNAL'],
    [new EngineHttpError(409, 'DELETE', '/containers/x', 'removal already in progress'), 'CONFLICT'],
    [new EngineHttpError(400, 'POST', '/containers/create', 'invalid reference format'), 'INVALID_INPUT'],
    [new EngineHttpError(503, 'GET', '/info', 'daemon is shutting down'), 'BACKEND_UNAVAILABLE'],
    [new EngineHttpError(500, 'POST', '/containers/x/pause', 'container is already paused'), 'INTERNAL'],
    [new EngineAbortedError('POST', '/containers/x/stop', new Error('caller gave up')), 'CANCELLED'],
    [new TypeError('boom'), 'INTERNAL'],
  ] as const)('%s -> %s', (err, code) => {
    const mapped = toContractError(err, 'powerOff', UUID);
    expect(mapped).toBeInstanceOf(DriverError);
    expect(mapped.code).toBe(code);
    expect(mapped.op).toBe('powerOff');
  });

  it("an abort carries the signal's own reason (the guard aborts with TIMEOUT or CANCELLED)", () => {
    const timeout = new DriverError('TIMEOUT', { target: UUID });
    const mapped = toContractError(new EngineAbortedError('POST', '/containers/x/stop', timeout), 'powerOff', UUID);
    expect(mapped.code).toBe('TIMEOUT');
    expect(mapped.op).toBe('powerOff');
  });

  it('keeps a DriverError the driver raised itself, naming the operation', () => {
    const own = new DriverError('VOLUME_NOT_ATTACHED', { target: UUID });
    const mapped = toContractError(own, 'detachVolume', UUID);
    expect(mapped.code).toBe('VOLUME_NOT_ATTACHED');
    expect(mapped.op).toBe('detachVolume');
  });

  it('keeps the engine error as the cause and says what the engine answered', () => {
    const err = new EngineHttpError(409, 'DELETE', '/networks/n', 'network has active endpoints');
    const mapped = toContractError(err, 'destroy', UUID);
    expect(mapped.cause).toBe(err);
    expect(mapped.message).toContain('409');
  });
});
