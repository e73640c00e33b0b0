import type { CoverageResult } from '../result.js';
import { formatBudget, type Budget } from './budget.js';
import type { CoverageReport } from './tracker.js';

/** The RunResult's `coverage` from what the model run reached. */
export function coverageResult(report: CoverageReport, steeredRuns: number, budget: Budget): CoverageResult {
  return {
    cellsReached: report.cellsReached,
    cellsReachable: report.cellsReachable,
    missing: report.missing.map((c) => ({ state: c.state, column: c.column })),
    errorPaths: report.errorPaths,
    steeredRuns,
    budget: formatBudget(budget),
  };
}

/** `cells 180/180 reached`, with up to `max` missing cells named: the summary line of reports. */
export function coverageLine(c: CoverageResult, max = 8): string {
  const paths = Object.values(c.errorPaths).reduce((n, codes) => n + Object.keys(codes).length, 0);
  const head = `cells ${c.cellsReached}/${c.cellsReachable} reached, ${paths} error path${paths === 1 ? '' : 's'}`;
  const steered = c.steeredRuns > 0 ? `, ${c.steeredRuns} steered sequence${c.steeredRuns === 1 ? '' : 's'} (budget ${c.budget})` : '';
  if (c.missing.length === 0) return `${head}${steered}`;
  const names = c.missing.slice(0, max).map((m) => `${m.state}/${m.column}`);
  const more = c.missing.length > max ? `, and ${c.missing.length - max} more` : '';
  return `${head}${steered}; missing ${names.join(', ')}${more}`;
}
