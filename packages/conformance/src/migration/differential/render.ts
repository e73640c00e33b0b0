import type { StepRecord } from '../../result.js';
import type { PairOutcome } from './observe.js';

const one = (v: unknown): string => (typeof v === 'string' && /^(#\d+|m\d+|spec\(#\d+\)|<.*>|\{ \.\.\..*\})$/.test(v) ? v : JSON.stringify(v));

/** `b.prepareMigration({...})` as a line of the listing. */
export function renderCall(step: StepRecord): string {
  return `${step.op}(${step.args.map(one).join(', ')})`;
}

const lines = (text: string): string[] => text.split(/\r\n|[\n\r\u2028\u2029]/);

/**
 * The shrunk sequence as a listing to run by hand against each pair: one call a line with
 * the outcome every pair agreed on, then, at the diverging step, each pair's outcome. Slots
 * (#n) are instances, named by their uuid in the header; m<n> is the n-th migration prepared
 * (the target its prepareMigration answered); spec(#n) is the pair's MigrationHosts.spec.
 */
export function renderMigrationProgram(
  steps: readonly StepRecord[],
  outcomes: Record<string, PairOutcome>,
  header: { pairs: readonly string[]; seed: number; path: string; uuids: readonly string[] },
): string {
  const out: string[] = [
    `// Differential migration run: pairs ${header.pairs.join(', ')} (each pair: host a and host b of one driver kind).`,
    `// Found again by runMigrationDifferential({ pairs, seed: ${header.seed} }) with the same numRuns and maxCommands (fast-check's path ${JSON.stringify(header.path)} is not replayable on its own here).`,
    ...header.uuids.map((u, i) => `// #${i} = ${u}`),
  ];
  steps.forEach((s, i) => {
    const last = i === steps.length - 1;
    const result = s.actual === undefined ? '' : s.actual.ok ? 'ok' : s.actual.error;
    out.push(`${i + 1}. await ${renderCall(s)};${last ? '  // <- the pairs diverge here' : `  // ${result}`}`);
  });
  for (const [name, o] of Object.entries(outcomes)) {
    out.push(`//   ${name}:`);
    for (const l of lines(JSON.stringify(o, null, 2))) out.push(`//     ${l}`);
  }
  return out.join('\n');
}

/** Which parts of the outcomes differ, for the one-line message: result, target, an instance's place or info, usage. */
export function differingParts(outcomes: readonly PairOutcome[]): string[] {
  const parts: string[] = [];
  const differs = (f: (o: PairOutcome) => unknown): boolean => new Set(outcomes.map((o) => JSON.stringify(f(o)))).size > 1;
  if (differs((o) => o.result)) parts.push(`result ${outcomes.map((o) => o.result).join(' vs ')}`);
  if (differs((o) => o.target)) parts.push('target');
  const slots = new Set(outcomes.flatMap((o) => Object.keys(o.instances)));
  for (const s of slots) {
    if (differs((o) => o.instances[s]?.at)) parts.push(`${s} on ${outcomes.map((o) => o.instances[s]?.at ?? '?').join(' vs ')}`);
    else if (differs((o) => o.instances[s]?.info)) parts.push(`${s} info`);
  }
  if (differs((o) => o.usage)) parts.push('inventory usage');
  return parts;
}
