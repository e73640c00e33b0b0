import { expect, it } from 'vitest';
import { guard } from '../src/guard/guard.js';
import { createReferenceDriver } from '../src/testing.js';
import { compare, report } from './harness.js';
import { BIG_HOST, populated } from './fixtures.js';

// listInstances and getInventory with 10,000 instances. getInventory reads per-node
// counters, so it should cost the same with 0 or 10,000 instances (ratio ~1);
// listInstances is linear in the instances it returns (ratio ~100 for 100x the instances).

it('listInstances and getInventory with 10,000 instances', async () => {
  const empty = createReferenceDriver(BIG_HOST);
  const small = await populated(100);
  const large = await populated(10_000);
  const rounds = 15;

  const inventory = await compare(
    [
      { name: 'getInventory, 0 instances', op: () => empty.getInventory() },
      { name: 'getInventory, 10,000 instances', op: () => large.driver.getInventory() },
    ],
    { ops: 20_000, rounds },
  );

  const list = await compare(
    [
      { name: 'listInstances, 100 instances', op: () => small.driver.listInstances() },
      { name: 'listInstances, 10,000 instances', op: () => large.driver.listInstances() },
    ],
    { ops: 20, rounds },
  );

  const g = guard(large.driver);
  await g.getCapabilities();
  const guardedList = await compare(
    [
      { name: 'listInstances 10,000, direct', op: () => large.driver.listInstances() },
      { name: 'listInstances 10,000, guarded', op: () => g.listInstances() },
    ],
    { ops: 10, rounds },
  );

  // Bare metal: 10,000 nodes with one instance each; inventory is one record per node.
  const nodes = await populated(10_000, {
    nodes: 10_000,
  });
  const spawnInto = await compare(
    [
      { name: 'getInventory, 1 node / 10,000 instances', op: () => large.driver.getInventory() },
      { name: 'getInventory, 10,000 nodes / 10,000 instances', op: () => nodes.driver.getInventory() },
      { name: 'listNodes, 10,000 nodes', op: () => nodes.driver.listNodes() },
    ],
    { ops: 10, rounds },
  );

  console.log('\nReference driver at scale, median of interleaved rounds');
  report('getInventory (counters, independent of instance count)', inventory);
  report('listInstances (linear in instances returned)', list);
  console.log(`  -> per instance listed: ${(list[1]!.nsPerOp / 10_000).toFixed(0)} ns at 10,000, ${(list[0]!.nsPerOp / 100).toFixed(0)} ns at 100`);
  report('listInstances through the guard (output validation of 10,000 summaries)', guardedList);
  report('many nodes', spawnInto);

  for (const r of [...inventory, ...list, ...guardedList, ...spawnInto]) expect(Number.isFinite(r.nsPerOp) && r.nsPerOp > 0).toBe(true);
});
