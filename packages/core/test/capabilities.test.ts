import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CAPABILITY_CATALOG,
  CAPABILITY_IDS,
  MANDATORY_CAPABILITIES,
  DriverError,
  checkCapabilities,
  declareCapabilities,
  guard,
  loadDriver,
  type CapabilityId,
  type DriverCapabilities,
} from '../src/index.js';
import { RecordingDriver } from '../src/guard/test-driver.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const OPTIONAL = CAPABILITY_IDS.filter((id) => !MANDATORY_CAPABILITIES.includes(id));

/** A declaration with one capability changed (or removed, with `undefined`), as a driver could return it. */
function declarationWith(id: string, declaration: unknown): DriverCapabilities {
  const caps = declareCapabilities({ supported: [] });
  const capabilities = caps.capabilities as Record<string, unknown>;
  if (declaration === undefined) delete capabilities[id];
  else capabilities[id] = declaration;
  return caps;
}

function thrownBy(fn: () => unknown): DriverError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DriverError);
    return error as DriverError;
  }
  return expect.unreachable('should have thrown');
}

describe('declareCapabilities: the core profile is mandatory', () => {
  it('declares every core capability complete whether or not `supported` lists it', () => {
    expect(MANDATORY_CAPABILITIES).toEqual(['operation.launch', 'operation.terminate', 'operation.get-guest-info', 'storage.image']);
    for (const supported of [[], ['storage.image'], ['operation.pause']] as CapabilityId[][]) {
      const caps = declareCapabilities({ supported });
      for (const id of MANDATORY_CAPABILITIES) expect(caps.capabilities[id], `${id} with ${supported.join()}`).toEqual({ level: 'complete' });
    }
  });

  it('declares a core capability partial when `partial` names it, with its caveat', () => {
    const caps = declareCapabilities({ supported: [], partial: { 'storage.image': 'raw images only' } });
    expect(caps.capabilities['storage.image']).toEqual({ level: 'partial', notes: 'raw images only' });
  });

  it('declares every other capability missing unless `supported` or `partial` names it', () => {
    const caps = declareCapabilities({ supported: ['operation.pause'], partial: { 'operation.reboot': 'hard only' } });
    expect(caps.capabilities['operation.pause']).toEqual({ level: 'complete' });
    expect(caps.capabilities['operation.reboot']).toEqual({ level: 'partial', notes: 'hard only' });
    const rest = OPTIONAL.filter((id) => id !== 'operation.pause' && id !== 'operation.reboot');
    for (const id of rest) expect(caps.capabilities[id], id).toEqual({ level: 'missing' });
    expect(checkCapabilities(caps)).toEqual(caps);
  });
});

describe('checkCapabilities: an invalid declaration names its field', () => {
  it.each(MANDATORY_CAPABILITIES)('refuses %s declared missing: the core profile is mandatory', (id) => {
    const error = thrownBy(() => checkCapabilities(declarationWith(id, { level: 'missing' })));
    expect(error.code).toBe('INTERNAL');
    expect(error.op).toBe('getCapabilities');
    expect(error.issues).toEqual([{ path: ['capabilities', id], message: expect.stringContaining('core profile') }]);
    expect(error.message).toContain(`capabilities.${id}: cannot be missing`);
  });

  it('refuses a capability of the baseline left out, and completes later ones as missing', () => {
    const withoutRestore = declarationWith('operation.restore-state', undefined);
    const error = thrownBy(() => checkCapabilities(withoutRestore, '1.1.0'));
    expect(error.issues).toEqual([{ path: ['capabilities', 'operation.restore-state'], message: expect.stringContaining('contract 1.1.0') }]);
    const completed = checkCapabilities(withoutRestore, '1.0.0');
    expect(completed.capabilities['operation.restore-state']).toEqual({ level: 'missing' });
    const left = thrownBy(() => checkCapabilities(declarationWith('operation.pause', undefined), '1.0.0'));
    expect(left.issues?.map((i) => i.path)).toEqual([['capabilities', 'operation.pause']]);
  });

  it('names an unknown capability id, a partial without notes and a wrong field', () => {
    const unknown = thrownBy(() => checkCapabilities(declarationWith('storage.tape', { level: 'complete' })));
    expect(unknown.issues).toEqual([{ path: ['capabilities', 'storage.tape'], message: 'is not a capability id of this contract' }]);
    const stray = thrownBy(() => checkCapabilities({ ...declareCapabilities({ supported: [] }), multinode: true }));
    expect(stray.issues).toEqual([{ path: ['multinode'], message: 'is not a field of a capability declaration' }]);
    const noNotes = thrownBy(() => checkCapabilities(declarationWith('operation.pause', { level: 'partial' })));
    expect(noNotes.issues).toEqual([{ path: ['capabilities', 'operation.pause', 'notes'], message: 'a partial capability must say why in notes' }]);
    const badBound = thrownBy(() =>
      checkCapabilities({ ...declareCapabilities({ supported: [] }), eventualConsistency: { resourceReleaseMs: -1, eventDeliveryMs: 0, nodeAvailableMs: 0 } }),
    );
    expect(badBound.issues?.map((i) => i.path)).toEqual([['eventualConsistency', 'resourceReleaseMs']]);
  });

  it('returns the whole catalogue for a valid declaration', () => {
    const caps = checkCapabilities(declareCapabilities({ supported: ['operation.snapshot'] }));
    expect(Object.keys(caps.capabilities).sort()).toEqual([...CAPABILITY_IDS].sort());
    expect(Object.keys(CAPABILITY_CATALOG)).toHaveLength(CAPABILITY_IDS.length);
  });
});

describe('getCapabilities through the guard: an invalid declaration is a typed contract violation', () => {
  it('rejects storage.image declared missing with INTERNAL naming capabilities.storage.image, and reports it', async () => {
    const driver = new RecordingDriver();
    driver.getCapabilities = async () => declarationWith('storage.image', { level: 'missing' });
    const violations: DriverError[] = [];
    // Whatever the output validation: the capability gate depends on the declaration.
    const guarded = guard(driver, { validateOutputs: false, onViolation: (e) => violations.push(e) });
    const error = await guarded.getCapabilities().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DriverError);
    expect(error).toMatchObject({ code: 'INTERNAL', op: 'getCapabilities', issues: [{ path: ['capabilities', 'storage.image'] }] });
    expect(violations).toEqual([error]);
  });

  it('does the same for a driver loaded with loadDriver', async () => {
    const loaded = await loadDriver('fixture-good-driver', {}, { resolveFrom: fixtures });
    loaded.raw.getCapabilities = async () => declarationWith('operation.launch', { level: 'missing' });
    await expect(loaded.driver.getCapabilities()).rejects.toMatchObject({
      code: 'INTERNAL',
      issues: [{ path: ['capabilities', 'operation.launch'], message: expect.stringContaining('core profile') }],
    });
  });
});
