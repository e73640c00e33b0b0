import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createReferenceDriver } from '@nova-common/core/testing';
import { semanticsFor, type DriverCapabilities } from '@nova-common/core';
import type { ContractCall } from '../../src/commands/call.js';
import { explanations, interleavings, sameOutcomes } from '../../src/concurrency/linearize.js';
import type { ModelBaseline } from '../../src/model/model.js';

const uuid = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const volumeId = '3f2504e0-4f89-41d3-9a0c-0305e82c3302';
const spec = {
  uuid,
  name: 'lin',
  flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 1 },
  image: { id: 'img', diskFormat: 'raw' as const, containerFormat: 'bare' as const },
  metadata: {},
};
const spawn: ContractCall = { op: 'spawn', spec };
const destroy: ContractCall = { op: 'destroy', uuid };
const attach: ContractCall = { op: 'attachVolume', uuid, attachment: { volumeId, deleteOnTermination: false, connectionInfo: { driverVolumeType: 'file', path: '/tmp/v.img' } } };
const detach: ContractCall = { op: 'detachVolume', uuid, volumeId };

async function baseline(): Promise<ModelBaseline> {
  const d = createReferenceDriver();
  const caps: DriverCapabilities = await d.getCapabilities();
  return { caps, preexisting: [], inventory: await d.getInventory(), nodes: await d.listNodes(), table: semanticsFor('1.1.0') };
}

const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));

describe('linearizability against the model', () => {
  it('enumerates every order that keeps each lane in order, exactly once (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }), (lengths) => {
        const orders = interleavings(lengths);
        const total = lengths.reduce((a, b) => a + b, 0);
        // The multinomial coefficient: total! / (l1! l2! ...).
        expect(orders.length).toBe(factorial(total) / lengths.reduce((a, l) => a * factorial(l), 1));
        expect(new Set(orders.map((o) => o.join())).size).toBe(orders.length);
        for (const o of orders) for (let l = 0; l < lengths.length; l++) expect(o.filter((x) => x === l).length).toBe(lengths[l]);
      }),
    );
  });

  it('two spawns of one uuid: exactly one succeeds, the other is INSTANCE_EXISTS; one instance either way', async () => {
    const all = explanations(await baseline(), [], [[spawn], [spawn]]);
    expect(all.map((e) => e.outcomes)).toEqual([
      [['ok'], ['INSTANCE_EXISTS']],
      [['INSTANCE_EXISTS'], ['ok']],
    ]);
    for (const e of all) expect(e.model.stateOf(uuid)).toBe('RUNNING');
    expect(all.some((e) => sameOutcomes(e, [['ok'], ['ok']]))).toBe(false);
  });

  it('destroy racing spawn of a new uuid: the instance is gone or running, never anything else', async () => {
    const all = explanations(await baseline(), [], [[spawn], [destroy]]);
    const byOutcome = all.map((e) => [e.outcomes.flat().join(), e.model.stateOf(uuid)]);
    expect(byOutcome).toEqual([
      ['ok,ok', 'ABSENT'],
      ['ok,ok', 'RUNNING'],
    ]);
  });

  it('detach racing attach of one volume: attached, or detached after being attached', async () => {
    const all = explanations(await baseline(), [spawn], [[attach], [detach]]);
    const seen = all.map((e) => ({ outcomes: e.outcomes, attached: e.model.get(uuid)!.volumes.has(volumeId) }));
    expect(seen).toEqual([
      { outcomes: [['ok'], ['ok']], attached: false },
      { outcomes: [['ok'], ['VOLUME_NOT_ATTACHED']], attached: true },
    ]);
  });

  it('a detach that timed out is explained applied and not applied, and shows TIMEOUT either way', async () => {
    const all = explanations(await baseline(), [spawn], [[attach], [detach]], [[false], [true]]);
    const seen = all.map((e) => ({ outcomes: e.outcomes, attached: e.model.get(uuid)!.volumes.has(volumeId) }));
    expect(seen).toEqual([
      // attach first: the timed-out detach either did nothing or detached.
      { outcomes: [['ok'], ['TIMEOUT']], attached: true },
      { outcomes: [['ok'], ['TIMEOUT']], attached: false },
      // detach first: it could not have succeeded; the volume ends attached both ways.
      { outcomes: [['ok'], ['TIMEOUT']], attached: true },
      { outcomes: [['ok'], ['TIMEOUT']], attached: true },
    ]);
    // An attach that reported ok must still have taken effect in some order.
    expect(all.every((e) => sameOutcomes(e, [['ok'], ['TIMEOUT']]))).toBe(true);
    expect(all.some((e) => sameOutcomes(e, [['ok'], ['ok']]))).toBe(false);
  });
});
