import { toJsonReport } from '../../src/report/json.js';
import type { JsonReport } from '../../src/report/json-schema.js';
import type { LoadedReport } from '../../src/site/load.js';
import { loadFixture } from '../report/load-fixtures.js';

type Fixture = 'reference-pass' | 'libvirt-failure' | 'ironic-filtered';

/** A JSON report made from a committed RunResult fixture, with the changes a test needs. */
export function report(
  fixture: Fixture,
  changes: { name?: string; version?: string; label?: string; startedAt?: string; runId?: string; description?: string } = {},
): JsonReport {
  const r = toJsonReport(loadFixture(fixture));
  const driver = { ...r.driver };
  if (changes.name !== undefined) driver.name = changes.name;
  if (changes.version !== undefined) driver.version = changes.version;
  if (changes.label !== undefined) driver.label = changes.label;
  if (changes.description !== undefined) driver.description = changes.description;
  return {
    ...r,
    driver,
    ...(changes.startedAt === undefined ? {} : { startedAt: changes.startedAt }),
    ...(changes.runId === undefined ? {} : { runId: changes.runId }),
  };
}

export function loaded(...reports: JsonReport[]): LoadedReport[] {
  return reports.map((r, i) => ({ file: `/reports/${i}.json`, report: r }));
}
