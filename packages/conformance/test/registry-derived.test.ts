import { describe, expect, it } from 'vitest';
import {
  InstanceSpecSchema,
  OPERATIONS,
  SEMANTIC_STATES,
  TABLE_OPERATIONS,
  guard,
  isRuleId,
  operationOfColumn,
  type ArgumentDescriptor,
} from '@nova-common/core';
import { createReferenceDriver } from '@nova-common/core/testing';
import { makeCall, type NeedsGenerator } from '../src/commands/arguments.js';
import { SEQUENCE_OPS, callArgs, columnOf, describeCall, shapeOf, type Call, type SequenceOp } from '../src/commands/call.js';
import { FixedSource } from '../src/commands/sources.js';
import { resolveOptions } from '../src/config.js';
import { Model } from '../src/model/model.js';
import { OVERSIZED_FLAVOR } from '../src/model/arbitraries.js';
import { allProperties, citedRules, propertyDefinition } from '../src/properties/catalog.js';
import { sampleCall } from '../src/properties/unsupported.js';
import { parseReplayDocument } from '../src/replay/replay.js';
import { Session } from '../src/run/session.js';
import { testName } from '../src/vitest.js';

const options = resolveOptions({ seed: 1, runId: 'nc-derived' });
const UUID = '6f1c2b9e-3d4a-4b5c-8d6e-7f8091a2b3c4';

type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// The operations the compiler asks a generator for: those with arguments the suite cannot fill in by itself.
const needsGenerator: Equal<NeedsGenerator, 'rescue' | 'rebuild' | 'snapshot' | 'attachVolume' | 'detachVolume' | 'extendVolume' | 'attachInterface' | 'detachInterface'> = true;

describe('calls are the registry\'s arguments, by name', () => {
  it('the roles the call types rely on are the registry\'s', () => {
    expect(needsGenerator).toBe(true);
    for (const op of SEQUENCE_OPS) {
      for (const a of OPERATIONS[op].args as readonly ArgumentDescriptor[]) {
        expect(a.role === 'image', `${op}.${a.name}`).toBe(a.name === 'imageId');
        expect(a.role === 'instanceSpec', `${op}.${a.name}`).toBe(a.schema === InstanceSpecSchema);
      }
    }
  });

  it('callArgs is the registry\'s argument list read off the call, then the options', async () => {
    for (const op of SEQUENCE_OPS) {
      if (shapeOf(op).spec >= 0) continue;
      const call = (await sampleCall(op, UUID, options, 1))!;
      const fields = call as unknown as Record<string, unknown>;
      const positional = (OPERATIONS[op].args as readonly ArgumentDescriptor[]).map((a) => fields[a.name]);
      const optionKeys = OPERATIONS[op].options === null ? [] : Object.keys(OPERATIONS[op].options!.shape);
      const withOptions = optionKeys.some((k) => fields[k] !== undefined) ? [...positional, Object.fromEntries(optionKeys.map((k) => [k, fields[k]]))] : positional;
      expect(callArgs(call), op).toEqual(withOptions);
      expect(Object.keys(fields).sort(), op).toEqual(['op', ...(OPERATIONS[op].args as readonly ArgumentDescriptor[]).map((a) => a.name), ...optionKeys.filter((k) => fields[k] !== undefined)].sort());
    }
  });

  it('every generated call passes the guard\'s argument checks', async () => {
    const driver = guard(createReferenceDriver(), { enforceCapabilities: false });
    await driver.initHost();
    for (const op of SEQUENCE_OPS) {
      if (shapeOf(op).spec >= 0) continue;
      const call = (await sampleCall(op, UUID, options, 1))!;
      const args = callArgs(call);
      const arity = OPERATIONS[op].args.length;
      const outcome = await driver.call(op, args.slice(0, arity), args[arity] as undefined).then(
        () => 'ok',
        (e: { code: string }) => e.code,
      );
      expect(outcome, `${op}: ${JSON.stringify(args)}`).not.toBe('INVALID_INPUT');
    }
  });

  it('a call can be made for every column of the table, and answers to that column', async () => {
    for (const column of TABLE_OPERATIONS) {
      const op = operationOfColumn(column) as SequenceOp;
      if (shapeOf(op).spec >= 0) continue;
      const call = (await makeCall(op, UUID, new FixedSource({ purpose: 'test', uuid: UUID, volume: UUID, vif: { id: UUID, address: 'fa:16:3e:00:00:01' } }, options), column))!;
      expect(columnOf(call), column).toBe(column);
    }
  });

  it('describes a call from its arguments', () => {
    const calls: [Call, string][] = [
      [{ op: 'reboot', uuid: UUID, type: 'HARD' }, 'reboot(6f1c2b9e, HARD)'],
      [{ op: 'extendVolume', uuid: UUID, volumeId: '0b5e3f0e-0000-4000-8000-00000000f00d', newSizeGb: 3 }, 'extendVolume(6f1c2b9e, 0b5e3f0e, 3)'],
      [{ op: 'deleteSnapshot', imageId: { produced: 2 } }, 'deleteSnapshot(#2)'],
      [{ op: 'powerOff', uuid: UUID, gracefulTimeoutMs: 0 }, 'powerOff(6f1c2b9e)'],
      [{ op: 'simulateCrash', uuid: UUID }, 'simulateCrash(6f1c2b9e)'],
    ];
    for (const [call, text] of calls) expect(describeCall(call)).toBe(text);
    expect(describeCall({ op: 'pause', uuid: UUID, repeat: true })).toBe('pause(6f1c2b9e) (repeat)');
  });

  it('replay files written with the earlier call fields still load', () => {
    const doc = parseReplayDocument({
      format: 'nova-conformance-replay',
      version: 1,
      runId: 'nc-old',
      calls: [
        { op: 'snapshot', uuid: UUID, name: 'nc-old-snap-x' },
        { op: 'deleteSnapshot', image: { produced: 0 } },
        { op: 'deleteSnapshot', image: { id: 'nc-old-no-such-image' } },
        { op: 'powerOff', uuid: UUID, gracefulTimeoutMs: 0 },
      ],
    });
    expect(doc.calls).toEqual([
      { op: 'snapshot', uuid: UUID, spec: { name: 'nc-old-snap-x' } },
      { op: 'deleteSnapshot', imageId: { produced: 0 } },
      { op: 'deleteSnapshot', imageId: 'nc-old-no-such-image' },
      { op: 'powerOff', uuid: UUID, gracefulTimeoutMs: 0 },
    ]);
  });
});

describe('rules and property ids', () => {
  it('every property cites rules of the contract; P-MODEL-SEQUENCES every table cell', () => {
    for (const p of allProperties()) for (const r of p.rules) expect(isRuleId(r), `${p.id}: ${r}`).toBe(true);
    const cells = TABLE_OPERATIONS.length * SEMANTIC_STATES.length;
    expect(propertyDefinition('P-MODEL-SEQUENCES')!.rules.filter((r) => /^R-[A-Z-]+-(ABSENT|RUNNING|PAUSED|SHUTDOWN|SUSPENDED|CRASHED|NOSTATE|RESCUE)$/.test(r) && !r.startsWith('R-DEV-')).length).toBe(cells);
    expect(citedRules(propertyDefinition('P-MODEL-SEQUENCES')!.rules)).toMatch(new RegExp(`^${cells} table cells R-<COLUMN>-<STATE>, R-GEN-ERRORS, `));
  });

  it('names a conformance test after the property, its title and its rules', () => {
    expect(testName(propertyDefinition('P-EVENTS')!)).toBe('P-EVENTS: Power transitions are followed by lifecycle events [R-EVENT-TRANSITION]');
    expect(testName(propertyDefinition('P-SPAWN-ATOMIC')!)).toBe('P-SPAWN-ATOMIC: A spawn that fails leaves nothing behind [R-SPAWN-ATOMIC, R-SPAWN-PLACEMENT, R-SPAWN-NODE-UNKNOWN, R-SPAWN-VIF-TYPE]');
    expect(testName(propertyDefinition('P-UNSUPPORTED-operation.pause')!)).toMatch(/^P-UNSUPPORTED-operation\.pause: .+ \[R-GEN-UNSUPPORTED, R-GEN-ORDER\]$/);
  });

  it('placement failures cite their own rules', async () => {
    const session = await Session.open(() => createReferenceDriver({ nodes: 2 }), options);
    try {
      const model = new Model(await session.baseline(), options.settleTimeoutMs);
      const spec = { uuid: UUID, name: 'x', flavor: OVERSIZED_FLAVOR, image: options.images[0]! };
      expect(model.expect({ op: 'spawn', spec, variant: 'oversized' })).toEqual({ ok: false, error: 'INSUFFICIENT_RESOURCES', rule: 'R-SPAWN-PLACEMENT' });
      expect(model.expect({ op: 'spawn', spec: { ...spec, node: 'nowhere' }, variant: 'unknownNode' })).toEqual({ ok: false, error: 'NODE_NOT_FOUND', rule: 'R-SPAWN-NODE-UNKNOWN' });
    } finally {
      await session.close();
    }
  });
});
