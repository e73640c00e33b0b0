import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CONTRACT_VERSION, type ComputeDriver, type RuleId } from '@nova-common/core';
import { resolveOptions, type ConformanceOptions, type DriverFactory, type DriverIdentity } from '../config.js';
import type { Counterexample, ReplayDocument, StepRecord } from '../result.js';
import type { SequencedCall } from '../commands/call.js';
import { Model } from '../model/model.js';
import { newContext } from '../run/context.js';
import { execute } from '../run/executor.js';
import type { SequenceFailure } from '../run/model-run.js';
import { Session, keepAlive } from '../run/session.js';
import { finishSequence } from '../run/finish.js';
import { isViolation } from '../run/violation.js';
import { SUITE_VERSION } from '../version.js';
import { renderProgram } from './program.js';

export type Identity = DriverIdentity & { exportName?: string };

function driverOf(identity: Identity): ReplayDocument['driver'] {
  const d: NonNullable<ReplayDocument['driver']> = {};
  if (identity.name !== undefined) d.name = identity.name;
  if (identity.module !== undefined) d.module = identity.module;
  if (identity.exportName !== undefined) d.exportName = identity.exportName;
  if (identity.config !== undefined) d.config = identity.config;
  return d;
}

/** The replay document of a shrunk sequence. */
function toReplayDocument(failure: SequenceFailure, runId: string, identity: Identity): ReplayDocument {
  return {
    format: 'nova-conformance-replay',
    version: 1,
    suiteVersion: SUITE_VERSION,
    contractVersion: CONTRACT_VERSION,
    property: failure.property,
    rule: failure.violation.rule,
    message: failure.violation.message,
    seed: failure.seed,
    path: failure.path,
    runId,
    driver: driverOf(identity),
    calls: failure.calls.map((c) => ({ ...c }) as Record<string, unknown>),
  };
}

/** A Counterexample (result.ts) from a shrunk sequence failure; writes the replay file when `replayDir` is set. */
export async function counterexampleOf(failure: SequenceFailure, runId: string, identity: Identity, replayDir?: string): Promise<Counterexample> {
  const replay = toReplayDocument(failure, runId, identity);
  const header = { property: failure.property, rule: failure.violation.rule, message: failure.violation.message, seed: failure.seed, path: failure.path };
  const cx: Counterexample = {
    seed: failure.seed,
    path: failure.path,
    steps: failure.trace,
    program: renderProgram(failure.trace, header, identity),
    rule: failure.violation.rule,
    message: failure.violation.message,
    replay,
  };
  if (replayDir !== undefined) cx.replayFile = await writeReplayFile(replay, replayDir);
  return cx;
}

/** Write a replay document as `<dir>/<runId>-<property>.replay.json`; returns the path. */
export async function writeReplayFile(doc: ReplayDocument, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${doc.runId}-${doc.property.replace(/[^A-Za-z0-9._-]/g, '_')}.replay.json`);
  await writeFile(file, JSON.stringify(doc, null, 2) + '\n');
  return file;
}

/** Read and check a replay file. Throws a TypeError naming what is wrong. */
export async function readReplayFile(file: string): Promise<ReplayDocument> {
  const text = await readFile(file, 'utf8');
  return parseReplayDocument(JSON.parse(text) as unknown, file);
}

export function parseReplayDocument(value: unknown, where = 'replay document'): ReplayDocument {
  const doc = value as Partial<ReplayDocument> | null;
  if (!doc || typeof doc !== 'object') throw new TypeError(`${where}: not an object`);
  if (doc.format !== 'nova-conformance-replay' || doc.version !== 1) throw new TypeError(`${where}: not a nova-conformance replay file (format/version)`);
  if (!Array.isArray(doc.calls) || doc.calls.some((c) => !c || typeof c !== 'object' || typeof (c as { op?: unknown }).op !== 'string')) {
    throw new TypeError(`${where}: calls must be an array of { op, ... }`);
  }
  if (typeof doc.runId !== 'string') throw new TypeError(`${where}: runId missing`);
  return { ...(doc as ReplayDocument), calls: doc.calls.map(upgradeCall) };
}

/**
 * Calls as files written before the calls named their fields after the registry's arguments
 * carry them: snapshot's `name` (now `spec: { name }`) and deleteSnapshot's `image: { id } |
 * { produced }` (now `imageId`). Anything else is already in the current form.
 */
function upgradeCall(call: Record<string, unknown>): Record<string, unknown> {
  if (call.op === 'snapshot' && call.spec === undefined && typeof call.name === 'string') {
    const { name, ...rest } = call;
    return { ...rest, spec: { name } };
  }
  if (call.op === 'deleteSnapshot' && call.imageId === undefined && call.image !== null && typeof call.image === 'object') {
    const { image, ...rest } = call;
    const ref = image as { id?: unknown; produced?: unknown };
    return { ...rest, imageId: typeof ref.id === 'string' ? ref.id : { produced: ref.produced } };
  }
  return call;
}

export interface ReplayResult {
  ok: boolean;
  /** The steps as re-run, expected vs actual. */
  steps: StepRecord[];
  failure?: { property: string; rule: RuleId; message: string };
  /** The re-run as a TypeScript program. */
  program: string;
}

/**
 * Re-run exactly the calls of a replay file (or document) against a driver, with the
 * model's expectations and every observation check, then tear down.
 */
export async function runReplay(
  source: ReplayDocument | string,
  driver: DriverFactory | ComputeDriver,
  options: ConformanceOptions & Identity = {},
): Promise<ReplayResult> {
  const doc = typeof source === 'string' ? await readReplayFile(source) : parseReplayDocument(source);
  const resolved = resolveOptions({ ...options, runId: doc.runId, seed: doc.seed });
  const release = keepAlive();
  let session: Session;
  try {
    session = await Session.open(driver, resolved);
  } catch (error) {
    release();
    throw error;
  }
  let failure: ReplayResult['failure'];
  let trace: StepRecord[] = [];
  try {
    const model = new Model(await session.baseline(), resolved.settleTimeoutMs);
    const ctx = newContext(session, model, resolved, new Set());
    trace = ctx.trace;
    let thrown: unknown;
    try {
      for (const call of doc.calls) await execute(ctx, call as unknown as SequencedCall);
    } catch (error) {
      thrown = error;
    }
    thrown = await finishSequence(ctx, thrown, typeof driver === 'function' ? () => Session.open(driver, resolved) : undefined);
    if (thrown !== undefined) {
      failure = isViolation(thrown)
        ? { property: thrown.property, rule: thrown.rule, message: thrown.message }
        : { property: doc.property, rule: 'R-GEN-ERRORS', message: thrown instanceof Error ? thrown.message : String(thrown) };
    }
  } finally {
    try {
      await session.close();
    } finally {
      release();
    }
  }
  const header = failure
    ? { property: failure.property, rule: failure.rule, message: failure.message, seed: doc.seed, path: doc.path }
    : { property: doc.property, message: 'replay passed', seed: doc.seed, path: doc.path };
  const identity: Identity = { ...(doc.driver ?? {}), ...options };
  return { ok: failure === undefined, steps: trace, ...(failure ? { failure } : {}), program: renderProgram(trace, header, identity) };
}
