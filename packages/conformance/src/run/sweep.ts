import { guard, supports, type ComputeDriver, type GuardedDriver } from '@nova-common/core';
import { RUN_ID_KEY } from '../config.js';
import { errorCode, errorMessage } from './session.js';

export interface SweepResult {
  /** Uuids of the instances destroyed. */
  destroyed: string[];
  /** Image ids of the snapshots deleted. */
  snapshotsDeleted: string[];
  failures: { target: string; message: string }[];
}

function isGuarded(d: ComputeDriver | GuardedDriver): d is GuardedDriver {
  return 'raw' in d && typeof (d as GuardedDriver).raw === 'object';
}

/**
 * Remove what a crashed run left: every listed instance whose metadata
 * `nova-conformance:run-id` equals `runId` is destroyed, and, when the driver declares
 * `operation.list-snapshots` (contract 1.1), every snapshot whose name starts with `<runId>-`.
 * Snapshots of a driver built against 1.0 (no listSnapshots) are removed by its own tooling.
 * Instances without the run id are never touched. `driver` must be connected (initHost called).
 */
export async function sweep(driver: ComputeDriver | GuardedDriver, runId: string): Promise<SweepResult> {
  if (!runId) throw new RangeError('sweep needs a run id');
  const g = isGuarded(driver) ? driver : guard(driver, { enforceCapabilities: false });
  const result: SweepResult = { destroyed: [], snapshotsDeleted: [], failures: [] };
  for (const s of await g.listInstances()) {
    if (s.metadata[RUN_ID_KEY] !== runId) continue;
    try {
      await g.destroy(s.uuid);
      result.destroyed.push(s.uuid);
    } catch (error) {
      result.failures.push({ target: s.uuid, message: `${errorCode(error)}: ${errorMessage(error)}` });
    }
  }
  if (supports(await g.getCapabilities(), 'operation.list-snapshots')) {
    for (const snap of await g.listSnapshots()) {
      if (!snap.name.startsWith(`${runId}-`)) continue;
      try {
        await g.deleteSnapshot(snap.imageId);
        result.snapshotsDeleted.push(snap.imageId);
      } catch (error) {
        result.failures.push({ target: snap.imageId, message: `${errorCode(error)}: ${errorMessage(error)}` });
      }
    }
  }
  return result;
}
