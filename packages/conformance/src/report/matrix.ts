import { CAPABILITY_CATALOG, CAPABILITY_IDS, PROFILE_IDS } from '@nova-common/core';
import type { MatrixStatus } from '../result.js';

/**
 * The support matrix: rows are capabilities (Nova support-matrix ids, grouped by profile),
 * columns are drivers, each cell the status one run established, with its evidence. It is
 * computed from RunResults or from JSON reports read back, so ids are plain strings here.
 */

/** The fields of a RunResult (or a JSON report) the matrix reads. */
export interface MatrixSource {
  suiteVersion: string;
  contractVersion: string;
  driver: { name: string; version: string; description?: string | undefined; label?: string | undefined };
  startedAt: string;
  seed: number;
  runId: string;
  profiles: { id: string; supported: boolean }[];
  capabilities: { id: string; declared: string; status: MatrixStatus; evidence: string[]; notes?: string | undefined }[];
  properties: { id: string; status: 'passed' | 'failed' | 'skipped'; runs: number; steps: number }[];
  summary: { passed: number; failed: number; skipped: number };
}

export interface MatrixColumn {
  /**
   * The header: driver name and version, then the run's label when it has one; the run id is
   * added when two columns would otherwise read the same.
   */
  label: string;
  name: string;
  version: string;
  description?: string | undefined;
  /** The run's own label (`--label`), when it had one. */
  runLabel?: string | undefined;
  suiteVersion: string;
  contractVersion: string;
  runId: string;
  seed: number;
  startedAt: string;
  summary: { passed: number; failed: number; skipped: number };
}

export interface MatrixEvidence {
  propertyId: string;
  /** `unknown` when the run named the property as evidence but did not report it. */
  status: 'passed' | 'failed' | 'skipped' | 'unknown';
  runs: number;
  steps: number;
}

export interface MatrixCell {
  status: MatrixStatus;
  /** What the driver declared; absent when the report has no entry for the capability. */
  declared?: string | undefined;
  evidence: MatrixEvidence[];
  /** Evidence counts: properties passed / failed, and runs over all of them. */
  passed: number;
  failed: number;
  runs: number;
  notes?: string | undefined;
}

export interface MatrixRow {
  id: string;
  title: string;
  /** True when the id is one of Nova's support-matrix feature ids. */
  nova: boolean;
  cells: MatrixCell[];
}

export interface MatrixGroup {
  profile: string;
  /** Per column: whether that driver supports the whole profile (undefined: not reported). */
  supported: (boolean | undefined)[];
  rows: MatrixRow[];
}

export interface SupportMatrix {
  generatedAt: string;
  columns: MatrixColumn[];
  groups: MatrixGroup[];
}

export interface MatrixOptions {
  /** ISO timestamp printed as "generated at"; defaults to now. Fixed in golden tests. */
  generatedAt?: string;
}

export const STATUS_DESCRIPTIONS: Record<MatrixStatus, string> = {
  complete: 'declared supported, every one of its operations was called, and every property exercising it passed',
  partial: 'declared partial (see the note), or declared supported but a property exercising it failed (the note says which failed on its own operations and which failed elsewhere)',
  missing: 'declared missing, and verified: the operation raised UNSUPPORTED and changed nothing',
  unknown: 'not judged: not run, profile filtered out, not every one of its operations called, or not verified',
};

const catalog: Record<string, { title: string; profile: string; nova: boolean }> = CAPABILITY_CATALOG;

export function computeSupportMatrix(sources: readonly MatrixSource[], options: MatrixOptions = {}): SupportMatrix {
  const heading = (s: MatrixSource): string => `${s.driver.name} ${s.driver.version}${s.driver.label === undefined ? '' : ` (${s.driver.label})`}`;
  const columns = sources.map((s): MatrixColumn => {
    const duplicate = sources.filter((o) => heading(o) === heading(s)).length > 1;
    return {
      label: `${heading(s)}${duplicate ? ` (${s.runId})` : ''}`,
      name: s.driver.name,
      version: s.driver.version,
      description: s.driver.description,
      runLabel: s.driver.label,
      suiteVersion: s.suiteVersion,
      contractVersion: s.contractVersion,
      runId: s.runId,
      seed: s.seed,
      startedAt: s.startedAt,
      summary: s.summary,
    };
  });

  // Catalog ids first, in catalog order within profile order; then ids a newer suite reported.
  const extraIds = [...new Set(sources.flatMap((s) => s.capabilities.map((c) => c.id)))].filter((id) => !(id in catalog));
  const profiles: string[] = [...PROFILE_IDS, ...(extraIds.length > 0 ? ['other'] : [])];
  const groups = profiles.map((profile): MatrixGroup => {
    const ids = profile === 'other' ? extraIds : CAPABILITY_IDS.filter((id) => catalog[id]?.profile === profile);
    return {
      profile,
      supported: sources.map((s) => s.profiles.find((p) => p.id === profile)?.supported),
      rows: ids.map((id) => ({
        id,
        title: catalog[id]?.title ?? id,
        nova: catalog[id]?.nova ?? false,
        cells: sources.map((s) => cellOf(s, id)),
      })),
    };
  });
  return { generatedAt: options.generatedAt ?? new Date().toISOString(), columns, groups };
}

function cellOf(source: MatrixSource, id: string): MatrixCell {
  const cap = source.capabilities.find((c) => c.id === id);
  if (cap === undefined) {
    return { status: 'unknown', evidence: [], passed: 0, failed: 0, runs: 0, notes: 'not in this report' };
  }
  const evidence = cap.evidence.map((propertyId): MatrixEvidence => {
    const p = source.properties.find((q) => q.id === propertyId);
    return p === undefined
      ? { propertyId, status: 'unknown', runs: 0, steps: 0 }
      : { propertyId, status: p.status, runs: p.runs, steps: p.steps };
  });
  return {
    status: cap.status,
    declared: cap.declared,
    evidence,
    passed: evidence.filter((e) => e.status === 'passed').length,
    failed: evidence.filter((e) => e.status === 'failed').length,
    runs: evidence.reduce((n, e) => n + e.runs, 0),
    notes: cap.notes,
  };
}

/** "2/3 properties passed, 40 runs" — the evidence of a cell in words; empty when there is none. */
export function evidenceSummary(cell: MatrixCell): string {
  if (cell.evidence.length === 0) return '';
  const n = cell.evidence.length;
  const props = `${cell.passed}/${n} ${n === 1 ? 'property' : 'properties'} passed`;
  return `${props}, ${cell.runs} ${cell.runs === 1 ? 'run' : 'runs'}`;
}
