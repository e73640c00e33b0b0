import { expectedOutcome, OPERATIONS, TABLE_OPERATIONS, operationOfColumn, type SemanticState, type TableOperation } from '@nova-common/core';
import type { ResolvedOptions } from '../config.js';
import { RUN_ID_KEY } from '../config.js';
import { generatorOf, makeCall, NETWORK } from '../commands/arguments.js';
import { SEQUENCE_OPS, isSimulation, shapeOf, type Call, type SequenceOp, type SequencedCall } from '../commands/call.js';
import { opAllowed, undeclaredVifType, type CommandScope } from '../commands/intents.js';
import { FixedSource, type FixedIds } from '../commands/sources.js';
import { OVERSIZED_FLAVOR, TRICKY_METADATA } from '../model/arbitraries.js';
import { usageOf, type Model } from '../model/model.js';
import { sampleSpec, sampleUuid } from './fixed.js';

/**
 * The table walk: a deterministic sequence that visits every semantic state the driver can
 * reach and calls every declared column there (twice for idempotent ones), plus the spawn
 * failures and the operations outside the table. It runs before the generated sequences in
 * every run, so each cell of the semantics table is exercised whatever the seed; the
 * generated sequences then add interleavings, devices and several instances. Calls are
 * produced one at a time against the model, because the path to a state depends on where the
 * instance is. Columns, the moves between states and the arguments all come from the
 * registry, core's oracle and the argument generators.
 */

/** The columns of the operations on an existing instance (every column but the instance's creation). */
const INSTANCE_COLUMNS: readonly TableOperation[] = TABLE_OPERATIONS.filter((c) => shapeOf(operationOfColumn(c)).instance >= 0);
/** Operations outside the table (deleteSnapshot): called once the rows are done. */
const OUTSIDE_TABLE: readonly SequenceOp[] = SEQUENCE_OPS.filter((op) => OPERATIONS[op].columns.length === 0);
/** The rows: every state an existing instance can be in. */
const ROWS: readonly SemanticState[] = ['RUNNING', 'SHUTDOWN', 'PAUSED', 'SUSPENDED', 'RESCUE', 'CRASHED', 'NOSTATE'];

interface WalkContext {
  model: Model;
  options: ResolvedOptions;
  scope: CommandScope;
  /** Number of snapshots produced so far (deleteSnapshot names them by index). */
  snapshots: () => number;
}

type Step = TableOperation | 'simulateCrash' | 'simulateNoState';

/** Shortest path of columns that change the state (or simulations) from `from` to `to`, by the oracle. */
function path(from: SemanticState, to: SemanticState, columns: readonly TableOperation[], scope: CommandScope): Step[] | undefined {
  const edges = (s: SemanticState): [Step, SemanticState][] => {
    const out: [Step, SemanticState][] = [];
    for (const col of columns) {
      const o = expectedOutcome(s, col);
      if (o.ok && o.to !== s && o.to !== 'ABSENT') out.push([col, o.to]);
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

/**
 * The walk, as a generator of calls: each call is produced after the previous one ran (the
 * model has moved). `exec` runs one call and throws on a violation.
 */
export async function walk(w: WalkContext, exec: (call: SequencedCall) => Promise<void>): Promise<void> {
  const { model, options, scope } = w;
  const uuid = sampleUuid(options, 7001);
  const missing = sampleUuid(options, 7002);
  const fixed: Omit<FixedIds, 'uuid'> = {
    purpose: 'walk',
    model,
    snapshots: w.snapshots,
    volume: sampleUuid(options, 7003),
    vif: { id: sampleUuid(options, 7004), address: 'fa:16:3e:7e:57:01' },
    metadata: { [RUN_ID_KEY]: options.runId, rebuilt: 'yes' },
  };
  const ids = (target: string, right = true): FixedSource => new FixedSource({ ...fixed, uuid: target }, options, right);
  // The instance keeps a volume and an interface from spawn to the end, so every state
  // change is also checked to keep its devices (R-SPAWN-DEVICES, R-REBUILD-KEEPS).
  const keptVolume = sampleUuid(options, 7006);
  const keptVif = { id: sampleUuid(options, 7007), address: 'fa:16:3e:7e:57:02', network: NETWORK };
  const base = sampleSpec(options, uuid, 7005);
  const withVolume = !scope.excluded.has('spawn:volumes');
  const spec = {
    ...base,
    metadata: { ...base.metadata, ...TRICKY_METADATA },
    networkInfo: [keptVif],
    blockDeviceInfo: {
      ephemerals: [],
      volumes: withVolume ? [{ volumeId: keptVolume, sizeGb: 1, deleteOnTermination: false, connectionInfo: await options.volumeConnection(keptVolume) }] : [],
    },
  };
  const run = async (call: Call | undefined, twice = false): Promise<void> => {
    if (call === undefined) return;
    await exec(call);
    if (twice && !isSimulation(call) && OPERATIONS[call.op].idempotent) await exec({ ...call, repeat: true });
  };
  const allowed = (op: SequenceOp): boolean => opAllowed(scope, op);
  const columns = INSTANCE_COLUMNS.filter((c) => allowed(operationOfColumn(c) as SequenceOp));
  // The columns that remove the instance (destroy) end each row; the others are the row.
  const leaving = columns.filter((c) => {
    const o = expectedOutcome('RUNNING', c);
    return o.ok && o.to === 'ABSENT';
  });
  const row = columns.filter((c) => !leaving.includes(c));
  const callOf = async (column: TableOperation, target: string, right = true): Promise<Call | undefined> =>
    makeCall(operationOfColumn(column) as SequenceOp, target, ids(target, right), column);

  // Spawn: the failures first (nothing may be left), then the instance, then a duplicate.
  if (!scope.excluded.has('spawn:oversized') && model.neverFits(usageOf(OVERSIZED_FLAVOR))) {
    await run({ op: 'spawn', spec: { ...spec, flavor: OVERSIZED_FLAVOR }, variant: 'oversized' });
  }
  if (model.multiNode && !scope.excluded.has('spawn:unknownNode')) {
    await run({ op: 'spawn', spec: { ...spec, node: 'nova-conformance-no-such-node' }, variant: 'unknownNode' });
  }
  const vifType = undeclaredVifType(scope.caps);
  if (vifType !== undefined && !scope.excluded.has('spawn:undeclaredVifType')) {
    await run({ op: 'spawn', spec: { ...spec, networkInfo: [{ ...keptVif, type: vifType }] }, variant: 'undeclaredVifType' });
  }
  await run({ op: 'spawn', spec });
  await run({ op: 'spawn', spec: { ...spec, name: `${spec.name}-again` } });

  const driveTo = async (target: SemanticState): Promise<boolean> => {
    if (model.stateOf(uuid) === 'ABSENT') await run({ op: 'spawn', spec });
    const steps = path(model.stateOf(uuid), target, columns, scope);
    if (steps === undefined) return false;
    for (const s of steps) await run(s === 'simulateCrash' || s === 'simulateNoState' ? { op: s, uuid } : await callOf(s, uuid));
    return model.stateOf(uuid) === target;
  };
  for (const state of ROWS) {
    // The spawn column of the row: the uuid is taken, whatever state its instance is in.
    if (await driveTo(state)) await run({ op: 'spawn', spec: { ...spec, name: `${spec.name}-again` } });
    for (const col of row) {
      if (!(await driveTo(state))) break;
      // The call that should succeed (repeated when idempotent), then, for operations on a
      // device, the same with the device that meets the precondition error.
      await run(await callOf(col, uuid), true);
      if (generatorOf(operationOfColumn(col) as SequenceOp)?.devices) await run(await callOf(col, uuid, false));
    }
    // Last column of the row: leaving it (the next row spawns the instance again). The row's last
    // call may have moved the instance on (or failed on a backend that refuses it): back to the row first.
    if (await driveTo(state)) for (const col of leaving) await run(await callOf(col, uuid), true);
  }
  // The ABSENT row: every column on a uuid that was never spawned.
  for (const col of columns) await run(await callOf(col, missing));
  // Operations outside the table: on what the walk produced, then on what does not exist.
  for (const op of OUTSIDE_TABLE) {
    if (!allowed(op)) continue;
    await run(await makeCall(op, uuid, ids(uuid)), true);
    await run(await makeCall(op, uuid, ids(uuid, false)), true);
  }
  for (const col of leaving) await run(await callOf(col, uuid), true);
}
