import type { RuleId } from '@nova-common/core';
import type { DriverIdentity } from '../config.js';
import type { StepRecord } from '../result.js';
import type { Allowed, RoundResult } from './round.js';
import type { Scenario } from './scenario.js';

/**
 * A concurrency counterexample as a runnable TypeScript program: the setup calls one at a
 * time, the lanes side by side (Promise.all), then an assertion that the outcomes and the
 * state left are those of some order of the calls, every such order listed as the model
 * computed it. It exits non-zero while the driver does something no order explains, and
 * destroys every instance of the case whatever happens.
 */

const lit = (v: unknown): string => JSON.stringify(v, null, 2)?.replace(/\n/g, '\n  ') ?? 'undefined';
const commentLines = (text: string): string[] => text.split(/\r\n|[\n\r\u2028\u2029]/).map((l) => `// ${l}`);

function driverLines(identity: DriverIdentity): { imports: string[]; create: string } {
  if (identity.module) {
    const name = identity.exportName ?? 'manifest';
    return { imports: [`import { ${name} } from ${JSON.stringify(identity.module)};`], create: `const raw = ${name}.create(${name}.configSchema.parse(${lit(identity.config ?? {})}));` };
  }
  return {
    imports: [`// Adapt: a function returning an unconnected instance of the driver under test.`, `import { createDriver } from './driver-under-test.js';`],
    create: `const raw = await createDriver(${identity.config !== undefined ? lit(identity.config) : ''});`,
  };
}

/** The operation of a step (lane steps carry a note after it). */
const opOf = (step: StepRecord): string => step.op.split(' ')[0]!;
const callOf = (step: StepRecord): string => `driver.${opOf(step)}(${step.args.map(lit).join(', ')})`;

/** An end state as the program reads it back: absent, or power state, mode and volumes. */
function endOf(a: Allowed): unknown {
  return {
    outcomes: a.outcomes,
    end: a.end.map((i) => (i.state === 'ABSENT' ? { uuid: i.uuid, absent: true } : { uuid: i.uuid, powerState: i.powerState, mode: i.mode, volumes: i.volumes })),
  };
}

export function renderConcurrencyProgram(
  result: RoundResult,
  scenario: Scenario,
  header: { property: string; rule?: RuleId; message: string; seed: number },
  identity: DriverIdentity,
): string {
  const d = driverLines(identity);
  const out: string[] = [];
  out.push(...commentLines(`nova-conformance counterexample: ${header.property}${header.rule ? ` (${header.rule})` : ''}`));
  out.push(`// seed ${header.seed}`);
  out.push(...commentLines(header.message));
  out.push(`// Run with: npx tsx counterexample.ts (exits non-zero while the failure is there)`);
  out.push(`import assert from 'node:assert/strict';`);
  out.push(`import { isDeepStrictEqual } from 'node:util';`);
  out.push(`import { guard, isDriverError } from '@nova-common/core';`);
  out.push(...d.imports, '');
  out.push(`const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));`);
  out.push(`/** 'ok', or the error code the call rejected with. */`);
  out.push(`const outcome = (call: Promise<unknown>): Promise<string> => call.then(() => 'ok', (e: unknown) => (isDriverError(e) ? e.code : String(e)));`);
  out.push(d.create);
  out.push(`const driver = guard(raw, { enforceCapabilities: false });`);
  out.push(`await driver.initHost();`);
  out.push(`const uuids: string[] = ${lit(scenario.uuids)};`);
  out.push(`try {`);
  out.push(`  // Before the race, one call at a time.`);
  result.setupSteps.forEach((step, i) => {
    const want = step.expected?.ok === false ? step.expected.error : 'ok';
    out.push(`  assert.equal(await outcome(${callOf(step)}), ${JSON.stringify(want)}, ${JSON.stringify(`${i + 1}. ${step.op}`)});`);
  });
  out.push(`  // The race: the lanes side by side, each lane's calls in order.`);
  out.push(`  const outcomes = await Promise.all([`);
  result.laneSteps.forEach((lane, l) => {
    out.push(`    (async () => {`);
    out.push(`      const got: string[] = [];`);
    const delay = scenario.lanes[l]?.delayMs ?? 0;
    if (delay > 0) out.push(`      await sleep(${delay});`);
    for (const step of lane) out.push(`      got.push(await outcome(${callOf(step)}));`);
    out.push(`      return got;`);
    out.push(`    })(),`);
  });
  out.push(`  ]);`);
  out.push(`  const end: unknown[] = [];`);
  out.push(`  for (const uuid of uuids) {`);
  out.push(`    try {`);
  out.push(`      const info = await driver.getInfo(uuid);`);
  out.push(`      end.push({ uuid, powerState: info.powerState, mode: info.mode, volumes: info.volumes.map((v) => v.volumeId.toLowerCase()).sort() });`);
  out.push(`    } catch (error) {`);
  out.push(`      end.push(isDriverError(error) && error.code === 'INSTANCE_NOT_FOUND' ? { uuid, absent: true } : { uuid, error: String(error) });`);
  out.push(`    }`);
  out.push(`  }`);
  out.push(`  // What each order of the calls, run one at a time, gives: the outcomes per lane and the state left.`);
  out.push(`  const allowed: unknown[] = ${lit(result.allowed.map(endOf))};`);
  out.push(`  const got = { outcomes, end };`);
  out.push(`  assert.ok(allowed.some((a) => isDeepStrictEqual(a, got)), \`no order of the calls explains \${JSON.stringify(got)}\`);`);
  out.push(`} finally {`);
  out.push(`  for (const uuid of uuids) await driver.destroy(uuid).catch((e: unknown) => console.error(\`could not destroy \${uuid}:\`, e));`);
  out.push(`  await driver.cleanupHost();`);
  out.push(`}`);
  return out.join('\n') + '\n';
}
