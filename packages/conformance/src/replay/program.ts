import { powerStateOf, type RuleId, type SemanticState } from '@nova-common/core';
import { producesImage } from '../commands/call.js';
import type { StepRecord } from '../result.js';
import type { DriverIdentity } from '../config.js';
import { deriveExpectations, type ProgramExpectations } from './program-model.js';

/** What the program header says about the failure. */
interface ProgramHeader {
  property: string;
  rule?: RuleId;
  message: string;
  seed: number;
  path: string;
}

const lit = (v: unknown): string => JSON.stringify(v, null, 2)?.replace(/\n/g, '\n  ') ?? 'undefined';
const one = (v: unknown): string => JSON.stringify(v) ?? 'undefined';

/** Text from a driver or a generated name in a `//` comment: every line terminator JavaScript knows starts a new comment line. */
const commentLines = (text: string): string[] => text.split(/\r\n|[\n\r\u2028\u2029]/).map((l) => `// ${l}`);

/** The lines that create the raw driver under test. */
function driverLines(identity: DriverIdentity & { exportName?: string }): { imports: string[]; create: string[] } {
  if (identity.module) {
    const name = identity.exportName ?? 'manifest';
    return {
      imports: [`import { ${name} } from ${JSON.stringify(identity.module)};`],
      create: [`const raw = ${name}.create(${name}.configSchema.parse(${lit(identity.config ?? {})}));`],
    };
  }
  return {
    imports: [`// Adapt: a function returning an unconnected instance of the driver under test.`, `import { createDriver } from './driver-under-test.js';`],
    create: [`const raw = await createDriver(${identity.config !== undefined ? lit(identity.config) : ''});`],
  };
}

/** A snapshot produced earlier in the sequence, as a report shows it (callArgs). */
const PRODUCED = /^<snapshot #(\d+)>$/;

function callExpression(step: StepRecord): string {
  const args = step.args.map((a) => {
    const m = typeof a === 'string' ? PRODUCED.exec(a) : null;
    return m ? `snapshots[${m[1]}]!` : lit(a);
  });
  return `driver.${step.op}(${args.join(', ')})`;
}

const HELPERS = [
  `async function expectError(call: Promise<unknown>, code: string): Promise<void> {`,
  `  try {`,
  `    await call;`,
  `  } catch (error) {`,
  `    assert.ok(isDriverError(error), String(error));`,
  `    assert.equal(error.code, code, error.message);`,
  `    return;`,
  `  }`,
  `  assert.fail(\`expected \${code}, got success\`);`,
  `}`,
  ``,
  `/** Inventory \`used\` per resource class summed over nodes (zeros left out). */`,
  `function usedOf(inventory: { nodes: { resources: Record<string, { used: number }> }[] }): Record<string, number> {`,
  `  const used: Record<string, number> = {};`,
  `  for (const node of inventory.nodes) for (const [cls, r] of Object.entries(node.resources)) used[cls] = (used[cls] ?? 0) + r.used;`,
  `  return Object.fromEntries(Object.entries(used).filter(([, n]) => n !== 0).sort(([a], [b]) => a.localeCompare(b)));`,
  `}`,
  ``,
  `const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));`,
  `const lower = (s: string): string => s.toLowerCase();`,
];

/**
 * The steps as a runnable TypeScript program (ESM, top-level await): it creates the driver,
 * wraps it in the guard as the suite does, performs each call and asserts what the model
 * expected, then asserts what the model expects at the end (the instance list, getInfo of
 * every live instance, inventory, lifecycle events), so it exits non-zero while the bug is
 * there and 0 on a driver without it. Whatever happens, it destroys every instance it
 * spawned and deletes every snapshot it took before it disconnects.
 */
export function renderProgram(steps: readonly StepRecord[], header: ProgramHeader, identity: DriverIdentity & { exportName?: string }): string {
  const d = driverLines(identity);
  const x = deriveExpectations(steps);
  const out: string[] = [];
  out.push(...commentLines(`nova-conformance counterexample: ${header.property}${header.rule ? ` (${header.rule})` : ''}`));
  out.push(`// seed ${header.seed}, path ${JSON.stringify(header.path)}`);
  out.push(...commentLines(header.message));
  out.push(`// Run with: npx tsx counterexample.ts (exits non-zero while the failure is there)`);
  out.push(`import assert from 'node:assert/strict';`);
  out.push(`import { FlavorSchema, expectedUsage, guard, isDriverError, supports } from '@nova-common/core';`);
  out.push(...d.imports);
  out.push('', ...HELPERS, '');
  out.push(...d.create);
  out.push(`const driver = guard(raw, { enforceCapabilities: false });`);
  out.push(`await driver.initHost();`);
  out.push(`const caps = await driver.getCapabilities();`);
  out.push(`const before = await driver.listInstances();`);
  out.push(`const usedBefore = usedOf(await driver.getInventory());`);
  out.push(`const events: { uuid: string; kind: string; powerState: string }[] = [];`);
  out.push(`const unsubscribe = supports(caps, 'event.lifecycle') ? driver.subscribeEvents((event) => events.push(event)) : undefined;`);
  out.push(`const snapshots: string[] = [];`);
  out.push(`const spawned: string[] = [];`);
  out.push(`try {`);
  steps.forEach((step, i) => out.push(...stepLines(step, i, i === steps.length - 1)));
  out.push(...finalChecks(x, header));
  if (header.property === 'P-RESTART') out.push(...restartLines(d.create));
  out.push(`} finally {`);
  out.push(`  // Leave nothing behind: every snapshot taken, every instance spawned (destroy is idempotent).`);
  out.push(`  unsubscribe?.();`);
  out.push(`  for (const id of snapshots) await driver.deleteSnapshot(id).catch((e: unknown) => console.error(\`could not delete snapshot \${id}:\`, e));`);
  out.push(`  for (const uuid of new Set(spawned)) await driver.destroy(uuid).catch((e: unknown) => console.error(\`could not destroy \${uuid}:\`, e));`);
  out.push(`  await driver.cleanupHost();`);
  out.push(`}`);
  return out.join('\n') + '\n';
}

function stepLines(step: StepRecord, i: number, last: boolean): string[] {
  const out: string[] = [];
  const exp = step.expected;
  const said = exp ? (exp.ok ? `success${exp.detail ? ` -> ${String(exp.detail)}` : ''}` : exp.error) : 'anything';
  out.push(...commentLines(`${i + 1}. ${step.op}: expected ${said}${last ? '  <- fails here' : ''}`).map((l) => `  ${l}`));
  if (step.op === 'simulateCrash' || step.op === 'simulateNoState') {
    out.push(`  // A guest/backend event the driver's test hook simulates:`);
    out.push(`  (raw as unknown as Record<string, (uuid: string) => void>)[${JSON.stringify(step.op)}]!(${lit(step.args[0])});`);
    return out;
  }
  if (step.op === 'spawn') out.push(`  spawned.push(${one((step.args[0] as { uuid: string }).uuid)});`);
  const call = callExpression(step);
  if (exp === undefined) {
    // No expectation (a differential trace): perform it, whatever it answers.
    out.push(`  await ${call}.then((r: unknown) => console.log(${one(`${i + 1}. ${step.op}:`)}, 'ok', r), (e: unknown) => console.log(${one(`${i + 1}. ${step.op}:`)}, String(e)));`);
    return out;
  }
  if (!exp.ok) {
    out.push(`  await expectError(${call}, ${JSON.stringify(exp.error)});`);
    return out;
  }
  if (producesImage(step.op)) out.push(`  snapshots.push((await ${call}).imageId);`);
  else out.push(`  await ${call};`);
  const uuid = step.args[0] && typeof step.args[0] === 'object' ? (step.args[0] as { uuid?: string }).uuid : step.args[0];
  const to = exp.detail as SemanticState | undefined;
  if (typeof uuid === 'string' && typeof to === 'string') {
    if (to === 'ABSENT') out.push(`  await expectError(driver.getInfo(${JSON.stringify(uuid)}), 'INSTANCE_NOT_FOUND');`);
    else {
      out.push(`  {`);
      out.push(`    const info = await driver.getInfo(${JSON.stringify(uuid)});`);
      out.push(`    assert.equal(info.powerState, ${JSON.stringify(powerStateOf(to))});`);
      out.push(`    assert.equal(info.mode, ${JSON.stringify(to === 'RESCUE' ? 'rescue' : 'normal')});`);
      out.push(`  }`);
    }
  }
  return out;
}

/** P-RESTART: stop the driver, make a new one as the program made the first, and compare what the two list. */
function restartLines(create: string[]): string[] {
  return [
    `  // The restart (R-RESTART-SAME): a new driver object with the same configuration must list the same instances.`,
    `  const listedBefore = (await driver.listInstances()).map((s) => lower(s.uuid)).sort();`,
    `  await driver.cleanupHost();`,
    `  {`,
    ...create.map((l) => `    ${l}`),
    `    const again = guard(raw, { enforceCapabilities: false });`,
    `    await again.initHost();`,
    `    try {`,
    `      assert.deepEqual((await again.listInstances()).map((s) => lower(s.uuid)).sort(), listedBefore, 'a new driver object lists what the previous one listed');`,
    `    } finally {`,
    `      for (const uuid of new Set(spawned)) await again.destroy(uuid).catch((e: unknown) => console.error(\`could not destroy \${uuid}:\`, e));`,
    `      await again.cleanupHost();`,
    `    }`,
    `  }`,
    `  await driver.initHost();`,
  ];
}

/** The end of the program: what the model expects of the driver after the last step. */
function finalChecks(x: ProgramExpectations, header: ProgramHeader): string[] {
  const out: string[] = [];
  out.push(...commentLines(`The check that failed: ${header.message.split(/\r\n|[\n\r\u2028\u2029]/)[0]}`).map((l) => `  ${l}`));
  if (!x.complete) {
    out.push(`  console.log('instances:', await driver.listInstances());`);
    out.push(`  console.log('inventory:', JSON.stringify(await driver.getInventory()));`);
    return out;
  }
  const live = x.live.map((i) => ({
    uuid: i.uuid,
    name: i.name,
    metadata: i.metadata,
    flavor: i.flavor,
    volumes: [...i.volumes.entries()].map(([id, sizeGb]) => (sizeGb === undefined ? { id } : { id, sizeGb })).sort((a, b) => a.id.localeCompare(b.id)),
    interfaces: [...i.interfaces].sort(),
  }));
  out.push(`  // What the model expects after the last step: these instances alive, with their names, metadata and devices.`);
  out.push(`  const live: { uuid: string; name: string; metadata: Record<string, string>; flavor: unknown; volumes: { id: string; sizeGb?: number }[]; interfaces: string[] }[] = ${lit(live)};`);
  out.push(`  // The instance list: what was there before, plus the live instances, names and metadata unchanged (R-LIST-OWNED).`);
  out.push(`  const listed = await driver.listInstances();`);
  out.push(`  assert.deepEqual(listed.map((s) => lower(s.uuid)).sort(), [...before.map((s) => lower(s.uuid)), ...live.map((i) => i.uuid)].sort(), 'listInstances');`);
  out.push(`  for (const want of live) {`);
  out.push(`    const summary = listed.find((s) => lower(s.uuid) === want.uuid)!;`);
  out.push(`    assert.equal(summary.name, want.name, \`listInstances: name of \${want.uuid}\`);`);
  out.push(`    assert.deepEqual({ ...summary.metadata }, want.metadata, \`listInstances: metadata of \${want.uuid}\`);`);
  out.push(`    // getInfo: name, metadata, volumes (with the sizes the model knows) and interfaces, sorted by id.`);
  out.push(`    const info = await driver.getInfo(want.uuid);`);
  out.push(`    assert.equal(info.name, want.name, \`getInfo(\${want.uuid}).name\`);`);
  out.push(`    assert.deepEqual({ ...info.metadata }, want.metadata, \`getInfo(\${want.uuid}).metadata\`);`);
  out.push(`    assert.deepEqual(info.volumes.map((v) => lower(v.volumeId)), want.volumes.map((v) => v.id), \`getInfo(\${want.uuid}).volumes\`);`);
  out.push(`    for (const v of want.volumes) if (v.sizeGb !== undefined) assert.equal(info.volumes.find((w) => lower(w.volumeId) === v.id)?.sizeGb, v.sizeGb, \`getInfo(\${want.uuid}): size of volume \${v.id}\`);`);
  out.push(`    assert.deepEqual(info.interfaces.map((v) => lower(v.id)), want.interfaces, \`getInfo(\${want.uuid}).interfaces\`);`);
  out.push(`  }`);
  out.push(`  // Inventory: the baseline plus expectedUsage of each live instance's flavor (R-INV-USED), once released resources are back (R-INV-RELEASE).`);
  if (x.destroyed) {
    out.push(`  const release = caps.eventualConsistency.resourceReleaseMs;`);
    out.push(`  if (release > 0) await sleep(release + 25);`);
  }
  out.push(`  const usedNow = usedOf(await driver.getInventory());`);
  out.push(`  const usedWant: Record<string, number> = { ...usedBefore };`);
  out.push(`  for (const i of live) for (const [cls, n] of Object.entries(expectedUsage(FlavorSchema.parse(i.flavor)))) usedWant[cls] = (usedWant[cls] ?? 0) + n;`);
  out.push(`  assert.deepEqual(usedNow, usedOf({ nodes: [{ resources: Object.fromEntries(Object.entries(usedWant).map(([c, used]) => [c, { used }])) }] }), 'inventory used');`);
  out.push(`  // Lifecycle events: each power change is followed by an event for that uuid, and no event names an unknown instance (R-EVENT-TRANSITION).`);
  out.push(`  if (unsubscribe !== undefined) {`);
  out.push(`    const delivery = caps.eventualConsistency.eventDeliveryMs;`);
  out.push(`    if (delivery > 0) await sleep(delivery + 25);`);
  out.push(`    const owed: { uuid: string; powerState: string; kinds: string[] }[] = ${lit(x.events)};`);
  out.push(`    for (const want of owed) {`);
  out.push(`      assert.ok(`);
  out.push(`        events.some((e) => lower(e.uuid) === want.uuid && e.powerState === want.powerState && want.kinds.includes(e.kind)),`);
  out.push(`        \`no \${want.kinds.join('/')} event with power state \${want.powerState} for \${want.uuid}\`,`);
  out.push(`      );`);
  out.push(`    }`);
  out.push(`    const known = new Set([...before.map((s) => lower(s.uuid)), ...spawned.map(lower)]);`);
  out.push(`    for (const e of events) assert.ok(known.has(lower(e.uuid)), \`an event names \${e.uuid}, an instance this driver does not manage\`);`);
  out.push(`  }`);
  return out;
}
