import { expectedOutcome, OPERATIONS, type SemanticState, type TableOperation } from '@nova-common/core';
import type { ResolvedOptions } from '../config.js';
import { RUN_ID_KEY } from '../config.js';
import type { Call, SequencedCall } from '../commands/call.js';
import { opAllowed, type CommandScope } from '../commands/intents.js';
import { OVERSIZED_FLAVOR } from '../model/arbitraries.js';
import { usageOf, type Model } from '../model/model.js';
import { sampleSpec, sampleUuid } from './fixed.js';

/**
 * The table walk: a deterministic sequence that visits every semantic state the driver can
 * reach and calls every declared column there (twice for idempotent ones), plus the spawn
 * failures and the snapshot cycle. It runs before the generated sequences in every run, so
 * each cell of the semantics table is exercised whatever the seed; the generated sequences
 * then add interleavings, devices and several instances. Calls are produced one at a time
 * against the model, because the path to a state depends on where the instance is.
 */

/** Columns that move an instance between states (used to drive it to a target state). */
const DRIVE: readonly TableOperation[] = ['powerOn', 'powerOff', 'pause', 'unpause', 'suspend', 'resume', 'rescue', 'unrescue', 'rebootHard'];

const contract = (col: TableOperation): keyof typeof OPERATIONS => (col === 'rebootSoft' || col === 'rebootHard' ? 'reboot' : col);

export interface WalkContext {
  model: Model;
  options: ResolvedOptions;
  scope: CommandScope;
  /** Number of snapshots produced so far (deleteSnapshot names them by index). */
  snapshots: () => number;
}

/** Shortest path of driving columns (or simulations) from `from` to `to`, by the oracle. */
function path(from: SemanticState, to: SemanticState, scope: CommandScope): (TableOperation | 'simulateCrash' | 'simulateNoState')[] | undefined {
  type Step = TableOperation | 'simulateCrash' | 'simulateNoState';
  const edges = (s: SemanticState): [Step, SemanticState][] => {
    const out: [Step, SemanticState][] = [];
    for (const col of DRIVE) {
      if (!opAllowed(scope, contract(col))) continue;
      const o = expectedOutcome(s, col);
      if (o.ok && o.to !== s) out.push([col, o.to]);
    }
    if (s !== 'ABSENT') {
      if (scope.simulate.crash && s !== 'CRASHED') out.push(['simulateCrash', 'CRASHED']);
      if (scope.simulate.noState && s !== 'NOSTATE') out.push(['simulateNoState', 'NOSTATE']);
    }
    return out;
  };
  const prev = new Map<SemanticState, [SemanticState, Step] | null>([[from, null]]);
  const queue: SemanticState[] = [from];
  while (queue.length > 0) {
    const s = queue.shift()!;
    if (s === to) break;
    for (const [step, next] of edges(s)) {
      if (prev.has(next)) continue;
      prev.set(next, [s, step]);
      queue.push(next);
    }
  }
  if (!prev.has(to)) return undefined;
  const steps: Step[] = [];
  for (let s = to; prev.get(s); s = prev.get(s)![0]) steps.unshift(prev.get(s)![1]);
  return steps;
}

function columnCall(col: TableOperation | 'simulateCrash' | 'simulateNoState', uuid: string, options: ResolvedOptions): Call {
  switch (col) {
    case 'powerOff':
      return { op: 'powerOff', uuid, gracefulTimeoutMs: 0 };
    case 'rebootSoft':
    case 'rebootHard':
      return { op: 'reboot', uuid, type: col === 'rebootSoft' ? 'SOFT' : 'HARD' };
    case 'rescue':
      return { op: 'rescue', uuid, spec: {} };
    case 'rebuild':
      return { op: 'rebuild', uuid, spec: { image: options.images[options.images.length - 1]!, metadata: { [RUN_ID_KEY]: options.runId, rebuilt: 'yes' } } };
    case 'snapshot':
      return { op: 'snapshot', uuid, name: `${options.runId}-snap-walk` };
    default:
      return { op: col as 'powerOn', uuid };
  }
}

/**
 * The walk, as a generator of calls: each call is produced after the previous one ran (the
 * model has moved). `exec` runs one call and throws on a violation.
 */
export async function walk(w: WalkContext, exec: (call: SequencedCall) => Promise<void>): Promise<void> {
  const { model, options, scope } = w;
  const uuid = sampleUuid(options, 7001);
  const missing = sampleUuid(options, 7002);
  const volume = sampleUuid(options, 7003);
  const vif = { id: sampleUuid(options, 7004), address: 'fa:16:3e:7e:57:01', network: { id: 'nova-conformance-net' } };
  // The instance keeps a volume and an interface from spawn to the end, so every state
  // change is also checked to keep its devices (R-SPAWN-DEVICES, R-REBUILD-KEEPS).
  const keptVolume = sampleUuid(options, 7006);
  const keptVif = { id: sampleUuid(options, 7007), address: 'fa:16:3e:7e:57:02', network: { id: 'nova-conformance-net' } };
  const base = sampleSpec(options, uuid, 7005);
  const withVolume = !scope.excluded.has('spawn:volumes');
  const spec = {
    ...base,
    networkInfo: [keptVif],
    blockDeviceInfo: {
      ephemerals: [],
      volumes: withVolume ? [{ volumeId: keptVolume, sizeGb: 1, deleteOnTermination: false, connectionInfo: await options.volumeConnection(keptVolume) }] : [],
    },
  };
  const run = async (call: Call, twice = false): Promise<void> => {
    await exec(call);
    const op = call.op === 'simulateCrash' || call.op === 'simulateNoState' ? undefined : call.op;
    if (twice && op !== undefined && OPERATIONS[op].idempotent) await exec({ ...call, repeat: true });
  };

  // Spawn: the failures first (nothing may be left), then the instance, then a duplicate.
  if (!scope.excluded.has('spawn:oversized') && model.neverFits(usageOf(OVERSIZED_FLAVOR))) {
    await run({ op: 'spawn', spec: { ...spec, flavor: OVERSIZED_FLAVOR }, variant: 'oversized' });
  }
  if (model.multiNode && !scope.excluded.has('spawn:unknownNode')) {
    await run({ op: 'spawn', spec: { ...spec, node: 'nova-conformance-no-such-node' }, variant: 'unknownNode' });
  }
  await run({ op: 'spawn', spec });
  await run({ op: 'spawn', spec: { ...spec, name: `${spec.name}-again` } });

  const states: SemanticState[] = ['RUNNING', 'SHUTDOWN', 'PAUSED', 'SUSPENDED', 'RESCUE', 'CRASHED', 'NOSTATE'];
  const columns: TableOperation[] = [
    'getInfo', 'getConsoleOutput', 'attachVolume', 'extendVolume', 'detachVolume', 'attachInterface', 'detachInterface', 'snapshot',
    'powerOff', 'powerOn', 'rebootSoft', 'rebootHard', 'pause', 'unpause', 'suspend', 'resume', 'rescue', 'unrescue', 'rebuild',
  ];
  const driveTo = async (target: SemanticState): Promise<boolean> => {
    if (model.stateOf(uuid) === 'ABSENT') await run({ op: 'spawn', spec });
    const steps = path(model.stateOf(uuid), target, scope);
    if (steps === undefined) return false;
    for (const s of steps) await run(columnCall(s, uuid, options));
    return model.stateOf(uuid) === target;
  };
  for (const state of states) {
    for (const col of columns) {
      if (!opAllowed(scope, contract(col)) || scope.excluded.has(contract(col))) continue;
      if (!(await driveTo(state))) break;
      switch (col) {
        case 'attachVolume': {
          const attachment = { volumeId: volume, sizeGb: 1, deleteOnTermination: false, connectionInfo: await options.volumeConnection(volume) };
          await run({ op: 'attachVolume', uuid, attachment });
          await run({ op: 'attachVolume', uuid, attachment });
          break;
        }
        case 'extendVolume':
          await run({ op: 'extendVolume', uuid, volumeId: volume, newSizeGb: (model.get(uuid)?.volumes.get(volume) ?? 1) + 1 });
          break;
        case 'detachVolume':
          await run({ op: 'detachVolume', uuid, volumeId: volume });
          await run({ op: 'detachVolume', uuid, volumeId: volume });
          break;
        case 'attachInterface':
          await run({ op: 'attachInterface', uuid, vif });
          await run({ op: 'attachInterface', uuid, vif });
          break;
        case 'detachInterface':
          await run({ op: 'detachInterface', uuid, vifId: vif.id });
          await run({ op: 'detachInterface', uuid, vifId: vif.id });
          break;
        case 'snapshot': {
          const before = w.snapshots();
          await run(columnCall('snapshot', uuid, options));
          if (w.snapshots() > before) {
            await run({ op: 'deleteSnapshot', image: { produced: before } });
            await run({ op: 'deleteSnapshot', image: { produced: before } });
          }
          break;
        }
        default:
          await run(columnCall(col, uuid, options), true);
      }
    }
    // Last column of the row: destroy (the next row spawns the instance again).
    if (model.stateOf(uuid) === state) await run({ op: 'destroy', uuid }, true);
  }
  // The ABSENT row: every column on a uuid that was never spawned, then destroy twice.
  for (const col of columns) {
    if (!opAllowed(scope, contract(col)) || scope.excluded.has(contract(col))) continue;
    if (col === 'attachVolume') {
      await run({ op: 'attachVolume', uuid: missing, attachment: { volumeId: volume, deleteOnTermination: false, connectionInfo: await options.volumeConnection(volume) } });
    } else if (col === 'detachVolume' || col === 'extendVolume') {
      await run(col === 'detachVolume' ? { op: col, uuid: missing, volumeId: volume } : { op: col, uuid: missing, volumeId: volume, newSizeGb: 2 });
    } else if (col === 'attachInterface') {
      await run({ op: col, uuid: missing, vif });
    } else if (col === 'detachInterface') {
      await run({ op: col, uuid: missing, vifId: vif.id });
    } else {
      await run(columnCall(col, missing, options));
    }
  }
  if (!scope.excluded.has('deleteSnapshot') && opAllowed(scope, 'deleteSnapshot')) await run({ op: 'deleteSnapshot', image: { id: `${options.runId}-no-such-image` } });
  await run({ op: 'destroy', uuid }, true);
  await run({ op: 'destroy', uuid: missing });
}
