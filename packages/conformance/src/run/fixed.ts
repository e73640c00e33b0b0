import fc from 'fast-check';
import type { GuardedDriver, InstanceInfo, InstanceSpecInput } from '@nova-common/core';
import { RUN_ID_KEY, type ResolvedOptions } from '../config.js';
import { flavorArb, metadataArb, nameArb, poolUuid } from '../model/arbitraries.js';
import type { StepRecord } from '../result.js';
import { errorCode, errorMessage, sleep, type Session } from './session.js';

/**
 * Helpers for the properties that are fixed scripts rather than generated sequences
 * (UNSUPPORTED checks, fault injection): a deterministic spec from the seed, and a step
 * log that records each call as the counterexample's steps.
 */

/** A valid spec for `uuid`, drawn from the run's seed (so the run is reproducible). */
export function sampleSpec(options: ResolvedOptions, uuid: string, salt: number): InstanceSpecInput {
  const [v] = fc.sample(fc.record({ name: nameArb, metadata: metadataArb, flavor: flavorArb }), { seed: options.seed + salt, numRuns: 1 });
  return {
    uuid,
    name: `${options.runId}-${v!.name}`,
    flavor: v!.flavor,
    image: options.images[0]!,
    metadata: { ...v!.metadata, [RUN_ID_KEY]: options.runId },
    networkInfo: [],
    blockDeviceInfo: { ephemerals: [], volumes: [] },
    powerOn: true,
  };
}

/** A fresh lower-case uuid drawn from the seed. */
export function sampleUuid(options: ResolvedOptions, salt: number): string {
  return poolUuid(Math.imul(options.seed, 31) + salt, 0);
}

type CallResult<T> = { ok: true; value: T } | { ok: false; error: unknown; code: string };

export class StepLog {
  readonly trace: StepRecord[] = [];

  async call<T>(op: string, args: unknown[], expected: StepRecord['expected'], run: () => Promise<T>): Promise<CallResult<T>> {
    const record: StepRecord = { op, args };
    if (expected) record.expected = expected;
    this.trace.push(record);
    try {
      const value = await run();
      record.actual = { ok: true };
      return { ok: true, value };
    } catch (error) {
      const code = errorCode(error);
      record.actual = { ok: false, error: code, message: errorMessage(error) };
      return { ok: false, error, code };
    }
  }
}

/** A comparable snapshot of what getInfo says (or NOT_FOUND). */
export async function infoSnapshot(driver: GuardedDriver, uuid: string): Promise<string> {
  try {
    const info: InstanceInfo = await driver.getInfo(uuid);
    return JSON.stringify(info);
  } catch (error) {
    return `error:${errorCode(error)}`;
  }
}

/** After a destroy, wait out the declared release bounds so the next spawn finds its room. */
export async function settleAfterDestroy(session: Session): Promise<void> {
  const ec = session.caps.eventualConsistency;
  const bound = Math.max(ec.resourceReleaseMs, ec.nodeAvailableMs);
  if (bound > 0) await sleep(bound + session.options.settleTimeoutMs);
}
