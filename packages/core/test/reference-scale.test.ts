import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createReferenceDriver } from '../src/testing.js';
import { expectedUsage } from '../src/semantics/oracle.js';
import { BAREMETAL_FLAVOR, expectCode, flavor, spec, usedTotals } from './reference-helpers.js';

// Correctness at 10,000 instances (counts and inventory sums). Speed is measured by the
// benchmarks in bench/, never asserted here.
const N = 10_000;

function addUsage(totals: Record<string, number>, usage: Record<string, number>, sign: 1 | -1): void {
  for (const [cls, n] of Object.entries(usage)) totals[cls] = (totals[cls] ?? 0) + sign * n;
  for (const cls of Object.keys(totals)) if (totals[cls] === 0) delete totals[cls];
}

describe('reference driver at 10,000 instances', () => {
  it('one node: lists every instance and sums inventory exactly, through spawns and destroys', async () => {
    const driver = createReferenceDriver({ capacity: { vcpus: 100_000, memoryMb: 100_000_000, diskGb: 10_000_000 } });
    const flavors = [flavor({ vcpus: 1, memoryMb: 512, rootGb: 1 }), flavor({ vcpus: 2, memoryMb: 2048, rootGb: 20, swapMb: 100 }), flavor({ vcpus: 4, memoryMb: 4096, rootGb: 40, ephemeralGb: 10 })];
    const expected: Record<string, number> = {};
    const uuids: string[] = [];
    for (let i = 0; i < N; i++) {
      const f = flavors[i % flavors.length]!;
      const s = spec({ name: `vm-${i}`, flavor: f, metadata: { i: String(i) }, powerOn: i % 5 !== 0 });
      await driver.spawn(s);
      uuids.push(s.uuid);
      addUsage(expected, expectedUsage(f), 1);
    }
    const list = await driver.listInstances();
    expect(list).toHaveLength(N);
    expect(new Set(list.map((x) => x.uuid))).toEqual(new Set(uuids));
    expect(list[1234]).toEqual({ uuid: uuids[1234], name: 'vm-1234', node: 'reference-node-0', metadata: { i: '1234' } });
    expect(usedTotals(await driver.getInventory())).toEqual(expected);

    for (let i = 0; i < N; i += 3) {
      await driver.destroy(uuids[i]!);
      addUsage(expected, expectedUsage(flavors[i % flavors.length]!), -1);
    }
    const remaining = uuids.filter((_, i) => i % 3 !== 0);
    expect((await driver.listInstances()).map((x) => x.uuid).sort()).toEqual([...remaining].sort());
    expect(usedTotals(await driver.getInventory())).toEqual(expected);
    expect((await driver.getInfo(uuids[10]!)).powerState).toBe('SHUTDOWN');
    expect((await driver.getInfo(uuids[11]!)).powerState).toBe('RUNNING');
    await expectCode(() => driver.getInfo(uuids[9]!), 'INSTANCE_NOT_FOUND');
  });

  it('10,000 nodes: one instance each, every node in use, then room again after destroy', async () => {
    const driver = createReferenceDriver({ nodes: N });
    for (let i = 0; i < N; i++) await driver.spawn(spec({ flavor: BAREMETAL_FLAVOR }));
    await expectCode(() => driver.spawn(spec({ flavor: BAREMETAL_FLAVOR })), 'INSUFFICIENT_RESOURCES');
    const list = await driver.listInstances();
    expect(list).toHaveLength(N);
    expect(new Set(list.map((x) => x.node)).size).toBe(N);
    const nodes = await driver.listNodes();
    expect(nodes.filter((n) => n.available)).toEqual([]);
    expect(usedTotals(await driver.getInventory())).toEqual({ CUSTOM_REFERENCE_NODE: N, VCPU: 0, MEMORY_MB: 0, DISK_GB: 0 });
    const victim = list[4321]!;
    await driver.destroy(victim.uuid);
    const again = spec({ uuid: randomUUID(), flavor: BAREMETAL_FLAVOR });
    await driver.spawn(again);
    expect((await driver.getInfo(again.uuid)).node).toBe(victim.node);
    expect(usedTotals(await driver.getInventory()).CUSTOM_REFERENCE_NODE).toBe(N);
  });
});
