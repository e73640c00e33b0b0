import { hostname } from 'node:os';
import {
  CONTRACT_VERSION,
  PROFILE_IDS,
  guard,
  supportedProfiles,
  type CapabilityId,
  type DriverCapabilities,
} from '@nova-common/core';
import { RUN_ID_KEY, resolveOptions, type ConformanceOptions, type DriverIdentity, type ProgressEvent } from '../config.js';
import type { PropertyResult, RunResult } from '../result.js';
import { printable } from '../report/terminal.js';
import { computeMatrix } from '../run/matrix-status.js';
import { SUITE_VERSION } from '../version.js';
import { planProperties, sweep } from './engine.js';
import type { DriverSource } from './driver-source.js';
import type { CliIo } from './io.js';

/** What the progress events said had finished when the run was interrupted. */
export type Finished = Map<string, { status: 'passed' | 'failed' | 'skipped'; runs: number }>;

/** Record the properties the progress events report finished. */
export function recordFinished(finished: Finished): (event: ProgressEvent) => void {
  return (event) => {
    if (event.status !== 'started') finished.set(event.property, { status: event.status, runs: event.runs ?? 0 });
  };
}

export interface SweepReport {
  /** The driver's capabilities, when the sweep could reach it. */
  caps: DriverCapabilities | undefined;
  /** True when something of the run may be left (a removal failed, an instance is still listed, or the sweep broke). */
  left: boolean;
}

/**
 * Remove what an interrupted run made, as `nova-conformance sweep` does: instances carrying
 * one of the run ids, and their snapshots. Prints each removal and whatever is left.
 */
export async function sweepInterrupted(io: CliIo, source: DriverSource, runIds: readonly string[]): Promise<SweepReport> {
  let caps: DriverCapabilities | undefined;
  let left = false;
  try {
    const driver = guard(source.createRaw());
    await driver.initHost();
    try {
      caps = await driver.getCapabilities();
      for (const runId of runIds) {
        const outcome = await sweep(driver, runId);
        for (const uuid of outcome.destroyed) io.stdout.write(printable(`destroyed instance ${uuid}\n`));
        for (const id of outcome.snapshotsDeleted) io.stdout.write(printable(`deleted snapshot ${id}\n`));
        for (const f of outcome.failures) io.stderr.write(printable(`could not remove ${f.target}: ${f.message}\n`));
        io.stdout.write(`swept run ${runId}: ${outcome.destroyed.length} instances destroyed, ${outcome.snapshotsDeleted.length} snapshots deleted, ${outcome.failures.length} failures\n`);
        const still = (await driver.listInstances()).filter((s) => s.metadata[RUN_ID_KEY] === runId);
        for (const s of still) io.stderr.write(printable(`still listed: instance ${s.uuid} (${s.name})\n`));
        if (outcome.failures.length > 0 || still.length > 0) left = true;
      }
    } finally {
      await driver.cleanupHost();
    }
  } catch (error) {
    io.stderr.write(printable(`the sweep after the interruption failed: ${error instanceof Error ? error.message : String(error)}\n`));
    left = true;
  }
  return { caps, left };
}

export interface InterruptedRun {
  options: ConformanceOptions;
  identity: DriverIdentity;
  startedAt: Date;
  durationMs: number;
  finished: Finished;
  caps: DriverCapabilities | undefined;
}

/**
 * The report of an interrupted run: the properties that finished with the verdict their
 * progress reported (a failure's counterexample was not reported before the interruption:
 * `--seed` runs it again), the others skipped as interrupted. The matrix vouches for nothing
 * it did not see: no capability is complete.
 */
export function interruptedResult(run: InterruptedRun): RunResult {
  const resolved = resolveOptions(run.options);
  const plan = run.caps === undefined ? [] : planProperties(run.caps, resolved);
  const properties: PropertyResult[] = plan.map(({ def, capabilities, skip }) => {
    const base = { id: def.id, title: def.title, since: def.since, rules: def.rules, capabilities, steps: 0, durationMs: 0 };
    const done = run.finished.get(def.id);
    if (done === undefined && skip !== undefined) return { ...base, status: 'skipped', reason: skip, runs: 0 };
    if (done === undefined) return { ...base, status: 'skipped', reason: 'interrupted (SIGINT) before it finished', runs: 0 };
    if (done.status === 'failed') {
      return { ...base, status: 'failed', runs: done.runs, reason: `failed before the interruption; run again with --seed ${resolved.seed} for its counterexample` };
    }
    return { ...base, status: done.status, runs: done.runs };
  });
  const failedCaps = new Map<CapabilityId, string[]>();
  for (const p of properties) if (p.status === 'failed') for (const c of p.capabilities) failedCaps.set(c, [...(failedCaps.get(c) ?? []), p.id]);
  const capabilities =
    run.caps === undefined
      ? []
      : computeMatrix(run.caps, properties, failedCaps, new Set()).map((c) =>
          c.status === 'unknown' && c.declared !== 'missing' ? { ...c, notes: 'the run was interrupted before this capability was judged' } : c,
        );
  const supported = new Set(run.caps === undefined ? [] : supportedProfiles(run.caps));
  const d = run.identity;
  return {
    suiteVersion: SUITE_VERSION,
    contractVersion: CONTRACT_VERSION,
    driver: {
      name: d.name ?? 'driver',
      version: d.version ?? '0.0.0',
      ...(d.description !== undefined ? { description: d.description } : {}),
      ...(d.label !== undefined ? { label: d.label } : {}),
      ...(d.config !== undefined ? { config: d.config } : {}),
    },
    environment: { node: process.version, platform: process.platform, arch: process.arch, hostname: hostname(), ci: Boolean(process.env.CI) },
    startedAt: run.startedAt.toISOString(),
    durationMs: run.durationMs,
    seed: resolved.seed,
    runId: resolved.runId,
    options: { runs: resolved.runs, steps: resolved.steps, profiles: resolved.profiles, maxInstances: resolved.maxInstances },
    profiles: PROFILE_IDS.map((id) => ({ id, supported: supported.has(id) })),
    capabilities,
    properties,
    summary: {
      passed: properties.filter((p) => p.status === 'passed').length,
      failed: properties.filter((p) => p.status === 'failed').length,
      skipped: properties.filter((p) => p.status === 'skipped').length,
    },
  };
}
