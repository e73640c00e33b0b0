import { z } from 'zod';
import { PLUG_CONTRACT_VERSION } from '@nova-common/core/plugs';
import { SUITE_VERSION } from '../version.js';
import type { PlugRunResult } from './result.js';

/** What marks a JSON file as a plug report (a driver run's report has none). */
export const PLUG_REPORT_FORMAT = 'nova-common-plug-report';

const PlugPropertySchema = z
  .object({ id: z.string(), title: z.string(), rule: z.string(), passed: z.boolean(), detail: z.string().optional() })
  .strict();
const PlugRunSchema = z
  .object({ plugin: z.string(), kind: z.enum(['vif', 'volume']), accepts: z.array(z.string()), passed: z.boolean(), properties: z.array(PlugPropertySchema) })
  .strict();

/** A report of the plug suites run on one host: each plug's verdicts, and what could not run there and why. */
export const PlugReportSchema = z
  .object({
    format: z.literal(PLUG_REPORT_FORMAT),
    suiteVersion: z.string(),
    plugContractVersion: z.string(),
    /** The host the plugs ran on, as the run names it. */
    host: z.string(),
    startedAt: z.string(),
    seed: z.number().int(),
    runs: z.array(PlugRunSchema),
    /** Plugs that could not run on this host: the plug and the measured reason. */
    notRun: z.array(z.object({ plugin: z.string(), kind: z.enum(['vif', 'volume']), reason: z.string() }).strict()),
  })
  .strict();
export type PlugReport = z.infer<typeof PlugReportSchema>;

export function plugReport(runs: readonly PlugRunResult[], meta: { host: string; startedAt: string; seed: number; notRun?: PlugReport['notRun'] }): PlugReport {
  return {
    format: PLUG_REPORT_FORMAT,
    suiteVersion: SUITE_VERSION,
    plugContractVersion: PLUG_CONTRACT_VERSION,
    host: meta.host,
    startedAt: meta.startedAt,
    seed: meta.seed,
    runs: runs.map((r) => ({ ...r, accepts: [...r.accepts], properties: r.properties.map((p) => ({ ...p })) })),
    notRun: meta.notRun ?? [],
  };
}

/** True when a parsed JSON document says it is a plug report (then parsePlugReport must accept it). */
export function isPlugReport(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { format?: unknown }).format === PLUG_REPORT_FORMAT;
}

/** Read a plug report back; a malformed one names the first bad field. */
export function parsePlugReport(value: unknown, source: string): PlugReport {
  const parsed = PlugReportSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${source} is not a valid plug report: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
