import { randomUUID } from 'node:crypto';
import { supports, type CapabilityId, type DriverCapabilities } from '@nova-common/core';
import { MigrationViolation, type MigrationHosts } from './hosts.js';
import { MIGRATION_PROPERTY_IDS, propertyDefinition, type MigrationPropertyId } from '../properties/catalog.js';
import { watchProgress } from './progress.js';
import { evacuate, kindsOf, migrateFromEveryState, refuseBadMigrations, resizeInPlace, roundTrip, type MigrationContext } from './properties.js';

/** What each two-host property checks, and when it applies (what both hosts must declare). */
const CHECKS: Record<MigrationPropertyId, { applies: (caps: DriverCapabilities) => boolean; check: (ctx: MigrationContext) => Promise<void> }> = {
  'P-MIGRATE-STATES': { applies: (caps) => kindsOf(caps).length > 0, check: migrateFromEveryState },
  'P-MIGRATE-REFUSALS': { applies: (caps) => kindsOf(caps).length > 0, check: refuseBadMigrations },
  'P-MIGRATE-ROUND-TRIP': { applies: (caps) => kindsOf(caps).length > 0, check: roundTrip },
  'P-MIGRATE-PROGRESS': { applies: (caps) => kindsOf(caps).length > 0, check: watchProgress },
  'P-MIGRATE-IN-PLACE': { applies: (caps) => supports(caps, 'operation.migrate') && supports(caps, 'operation.resize-in-place'), check: resizeInPlace },
  'P-MIGRATE-EVACUATE': { applies: (caps) => supports(caps, 'operation.evacuate'), check: evacuate },
};

/** The capabilities a two-host property exercises (and needs both hosts to declare). */
export function migrationCapabilities(id: MigrationPropertyId, caps: DriverCapabilities): CapabilityId[] {
  const migrate: CapabilityId[] = ['operation.migrate', ...(supports(caps, 'operation.live-migrate') && id !== 'P-MIGRATE-REFUSALS' ? (['operation.live-migrate'] as const) : [])];
  if (id === 'P-MIGRATE-IN-PLACE') return ['operation.migrate', 'operation.resize-in-place'];
  if (id === 'P-MIGRATE-EVACUATE') return ['operation.evacuate'];
  return migrate;
}

export interface MigrationPropertyResult {
  id: MigrationPropertyId;
  title: string;
  rules: readonly string[];
  status: 'passed' | 'failed' | 'skipped';
  /** Why skipped: the capability both hosts would need. */
  reason?: string;
  /** The rule broken and what was seen, when failed. */
  failure?: { rule: string; message: string };
  /** The steps it took, for the report. */
  log: string[];
  durationMs: number;
}

export interface MigrationSuiteOptions {
  /** Keeps the uuids of two runs apart (and names what a sweep may remove). */
  runId?: string;
  /** Properties to run (default: all that apply). */
  only?: readonly MigrationPropertyId[];
}

/**
 * The two-host suite: the migration protocol checked on two hosts of one driver kind (A and B).
 * Each property starts and ends with nothing of its own on either host; a failure names the
 * rule (MIGRATION_RULES or a migration table cell) and what was seen. Capabilities are read
 * from both hosts: a property runs when both declare what it needs, and is skipped, with the
 * reason, otherwise. Ironic-like drivers that declare migration missing are judged by the
 * single-host suite's P-UNSUPPORTED properties instead.
 */
export async function runMigrationSuite(hosts: MigrationHosts, options: MigrationSuiteOptions = {}): Promise<MigrationPropertyResult[]> {
  const [capsA, capsB] = await Promise.all([hosts.a.getCapabilities(), hosts.b.getCapabilities()]);
  const both = intersect(capsA, capsB);
  const releaseMs = Math.max(capsA.eventualConsistency.resourceReleaseMs, capsB.eventualConsistency.resourceReleaseMs);
  let counter = 0;
  const prefix = runPrefix(options.runId ?? `nc-migrate-${randomUUID()}`);
  const results: MigrationPropertyResult[] = [];
  for (const id of MIGRATION_PROPERTY_IDS) {
    if (options.only !== undefined && !options.only.includes(id)) continue;
    const def = propertyDefinition(id)!;
    const p = CHECKS[id];
    const base = { id, title: def.title, rules: def.rules as readonly string[], log: [] as string[] };
    if (!p.applies(both)) {
      results.push({ ...base, status: 'skipped', reason: 'both hosts must declare the capabilities it needs', durationMs: 0 });
      continue;
    }
    const ctx: MigrationContext = { hosts, caps: both, log: base.log, releaseMs, uuid: () => uuidFrom(prefix, ++counter) };
    const started = performance.now();
    try {
      await p.check(ctx);
      results.push({ ...base, status: 'passed', durationMs: performance.now() - started });
    } catch (e) {
      const failure = e instanceof MigrationViolation ? { rule: e.rule, message: e.message } : { rule: 'R-GEN-ERRORS', message: `unexpected: ${e instanceof Error ? e.message : String(e)}` };
      results.push({ ...base, status: 'failed', failure, durationMs: performance.now() - started });
    }
  }
  return results;
}

/** What both hosts declare: a capability counts when each supports it. */
function intersect(a: DriverCapabilities, b: DriverCapabilities): DriverCapabilities {
  const capabilities = { ...a.capabilities };
  for (const id of Object.keys(capabilities) as (keyof typeof capabilities)[]) if (b.capabilities[id]?.level === 'missing') capabilities[id] = { level: 'missing' };
  return { ...a, capabilities };
}

/** Eight hex digits from the run id: every uuid of the run starts with them. */
export function runPrefix(runId: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < runId.length; i++) h = Math.imul(h ^ runId.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** A version-4 shaped uuid: the run's prefix, then a counter. */
export function uuidFrom(prefix: string, n: number): string {
  const tail = n.toString(16).padStart(12, '0');
  return `${prefix}-7a11-4c0d-8e1f-${tail}`;
}

/** One line per property, for logs and test output. */
export function renderMigrationResults(results: readonly MigrationPropertyResult[]): string {
  return results
    .map((r) => `${r.status.padEnd(7)} ${r.id}${r.failure ? `  ${r.failure.message}` : ''}${r.reason ? `  (${r.reason})` : ''}  [${Math.round(r.durationMs)} ms]`)
    .join('\n');
}
