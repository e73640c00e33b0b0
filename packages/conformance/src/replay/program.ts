import { powerStateOf, type RuleId, type SemanticState } from '@nova-common/core';
import { producesImage } from '../commands/call.js';
import type { StepRecord } from '../result.js';
import type { DriverIdentity } from '../config.js';

/** What the program header says about the failure. */
interface ProgramHeader {
  property: string;
  rule?: RuleId;
  message: string;
  seed: number;
  path: string;
}

const lit = (v: unknown): string => JSON.stringify(v, null, 2)?.replace(/\n/g, '\n  ') ?? 'undefined';

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

/**
 * The steps as a runnable TypeScript program (ESM, top-level await): it creates the driver,
 * wraps it in the guard as the suite does, performs each call and asserts what the model
 * expected, ending with the check that failed.
 */
export function renderProgram(steps: readonly StepRecord[], header: ProgramHeader, identity: DriverIdentity & { exportName?: string }): string {
  const d = driverLines(identity);
  const out: string[] = [];
  out.push(`// nova-conformance counterexample: ${header.property}${header.rule ? ` (${header.rule})` : ''}`);
  out.push(`// seed ${header.seed}, path ${JSON.stringify(header.path)}`);
  for (const line of header.message.split('\n')) out.push(`// ${line}`);
  out.push(`// Run with: npx tsx counterexample.ts`);
  out.push(`import assert from 'node:assert/strict';`);
  out.push(`import { guard, isDriverError } from '@nova-common/core';`);
  out.push(...d.imports);
  out.push('');
  out.push(`async function expectError(call: Promise<unknown>, code: string): Promise<void> {`);
  out.push(`  try {`);
  out.push(`    await call;`);
  out.push(`  } catch (error) {`);
  out.push(`    assert.ok(isDriverError(error), String(error));`);
  out.push(`    assert.equal(error.code, code, error.message);`);
  out.push(`    return;`);
  out.push(`  }`);
  out.push(`  assert.fail(\`expected \${code}, got success\`);`);
  out.push(`}`);
  out.push('');
  out.push(...d.create);
  out.push(`const driver = guard(raw, { enforceCapabilities: false });`);
  out.push(`await driver.initHost();`);
  out.push(`const snapshots: string[] = [];`);
  out.push(`try {`);
  steps.forEach((step, i) => {
    const last = i === steps.length - 1;
    const exp = step.expected;
    out.push(`  // ${i + 1}. ${step.op}: expected ${exp ? (exp.ok ? `success${exp.detail ? ` -> ${String(exp.detail)}` : ''}` : exp.error) : 'anything'}${last ? '  <- fails here' : ''}`);
    if (step.op === 'simulateCrash' || step.op === 'simulateNoState') {
      out.push(`  // A guest/backend event the driver's test hook simulates:`);
      out.push(`  (raw as unknown as Record<string, (uuid: string) => void>)[${JSON.stringify(step.op)}]!(${lit(step.args[0])});`);
      return;
    }
    const call = callExpression(step);
    if (exp && !exp.ok) {
      out.push(`  await expectError(${call}, ${JSON.stringify(exp.error)});`);
      return;
    }
    if (producesImage(step.op)) out.push(`  snapshots.push((await ${call}).imageId);`);
    else out.push(`  await ${call};`);
    const uuid = step.args[0] && typeof step.args[0] === 'object' ? (step.args[0] as { uuid?: string }).uuid : step.args[0];
    const to = exp?.ok ? (exp.detail as SemanticState | undefined) : undefined;
    if (typeof uuid === 'string' && to !== undefined) {
      if (to === 'ABSENT') out.push(`  await expectError(driver.getInfo(${JSON.stringify(uuid)}), 'INSTANCE_NOT_FOUND');`);
      else {
        out.push(`  {`);
        out.push(`    const info = await driver.getInfo(${JSON.stringify(uuid)});`);
        out.push(`    assert.equal(info.powerState, ${JSON.stringify(powerStateOf(to))});`);
        out.push(`    assert.equal(info.mode, ${JSON.stringify(to === 'RESCUE' ? 'rescue' : 'normal')});`);
        out.push(`  }`);
      }
    }
  });
  out.push(`  // The check that failed: ${header.message.split('\n')[0]}`);
  out.push(`  console.log('instances:', await driver.listInstances());`);
  out.push(`  console.log('inventory:', JSON.stringify(await driver.getInventory()));`);
  out.push(`} finally {`);
  out.push(`  await driver.cleanupHost();`);
  out.push(`}`);
  return out.join('\n') + '\n';
}
