import fc from 'fast-check';
import type { RestorableState } from '../src/schemas/power-state.js';
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../src/errors/codes.js';
import { createReferenceDriver, type ReferenceDriver } from '../src/testing.js';
import { eventKindsFor, expectedOutcome, expectedUsage, type OutcomeContext } from '../src/semantics/oracle.js';
import { TABLE_OPERATIONS, powerStateOf, type SemanticState, type TableOperation } from '../src/semantics/states.js';
import type { LifecycleEvent } from '../src/schemas/outputs.js';
import { BAREMETAL_FLAVOR, IMAGE_2, flavor, outcomeOf, spec, usedTotals, vif, volume } from './reference-helpers.js';

// Model-based check: random operation sequences over a few instances, each step predicted
// by an independent model built on the oracle (expectedOutcome) plus device preconditions
// and Placement arithmetic, then compared with what the reference driver does and reports.

const UUIDS = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b', '00000000-0000-4000-8000-00000000000c'];
const VOLUMES = ['10000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000002'];
const VIFS = ['20000000-0000-4000-8000-000000000001', '20000000-0000-4000-8000-000000000002'];
const FLAVORS = [flavor({ vcpus: 1, memoryMb: 1024, rootGb: 10 }), flavor({ vcpus: 2, memoryMb: 2048, rootGb: 5, swapMb: 1024 }), BAREMETAL_FLAVOR];

type Existing = Exclude<SemanticState, 'ABSENT'>;
type Op = TableOperation | 'crash' | 'nostate';

interface Command {
  op: Op;
  u: number;
  d: number;
  size: number;
  powerOn: boolean;
  f: number;
  /** spawn's node: -1 none (the driver picks), 0..nodes-1 an existing node, `nodes` one that does not exist. */
  n: number;
}

interface ModelInstance {
  state: Existing;
  volumes: Map<string, number | undefined>;
  interfaces: Set<string>;
  usage: Record<string, number>;
  node: string;
}

interface Setup {
  nodes: number;
  /** Per node, Placement capacity per class: (total - reserved) * ratio. */
  capacity: Record<string, number>;
}

// One small hypervisor where flavors run out of room, or three bare-metal-like nodes.
const SETUPS: Setup[] = [
  { nodes: 1, capacity: { VCPU: 4, MEMORY_MB: 8192, DISK_GB: 30 } },
  { nodes: 3, capacity: { VCPU: 64, MEMORY_MB: 262_144, DISK_GB: 4096, CUSTOM_REFERENCE_NODE: 1 } },
];

function makeDriver(setup: Setup): ReferenceDriver {
  return setup.nodes === 1
    ? createReferenceDriver({ capacity: { vcpus: 4, memoryMb: 8192, diskGb: 30, cpuAllocationRatio: 1, ramAllocationRatio: 1 } })
    : createReferenceDriver({ nodes: setup.nodes });
}

function nodeName(i: number): string {
  return `reference-node-${i}`;
}

/**
 * The spawn error the placement should raise, or null, from the model alone: an unknown
 * explicit node, then an occupied one (many nodes hold one instance each), then room.
 */
function placementError(setup: Setup, model: Map<string, ModelInstance>, usage: Record<string, number>, n: number): ErrorCode | null {
  if (n >= setup.nodes) return 'NODE_NOT_FOUND';
  const occupied = new Set([...model.values()].map((m) => m.node));
  if (n >= 0 && setup.nodes > 1 && occupied.has(nodeName(n))) return 'NODE_UNAVAILABLE';
  return fits(setup, model, usage) ? null : 'INSUFFICIENT_RESOURCES';
}

/** Would an instance using `usage` fit, given the model's instances? Independent of the driver's bookkeeping. */
function fits(setup: Setup, model: Map<string, ModelInstance>, usage: Record<string, number>): boolean {
  const cap = setup.capacity;
  if (Object.entries(usage).some(([cls, n]) => cap[cls] === undefined || n > cap[cls]!)) return false;
  if (setup.nodes > 1) return model.size < setup.nodes; // a free node uses nothing
  for (const [cls, n] of Object.entries(usage)) {
    let used = 0;
    for (const inst of model.values()) used += inst.usage[cls] ?? 0;
    if (used + n > cap[cls]!) return false;
  }
  return true;
}

function context(op: Op, inst: ModelInstance | undefined, cmd: Command): OutcomeContext {
  if (op === 'spawn') return { powerOn: cmd.powerOn };
  if (!inst) return {};
  const vol = VOLUMES[cmd.d]!;
  const nic = VIFS[cmd.d]!;
  if (op === 'attachVolume' || op === 'detachVolume' || op === 'extendVolume') return { volumeAttached: inst.volumes.has(vol) };
  if (op === 'attachInterface' || op === 'detachInterface') return { interfaceAttached: inst.interfaces.has(nic) };
  return {};
}

async function run(driver: ReferenceDriver, cmd: Command): Promise<ErrorCode | null> {
  const uuid = UUIDS[cmd.u]!;
  const vol = VOLUMES[cmd.d]!;
  const nic = VIFS[cmd.d]!;
  switch (cmd.op) {
    case 'crash':
      return outcomeOf(async () => driver.simulateCrash(uuid));
    case 'nostate':
      return outcomeOf(async () => driver.simulateNoState(uuid));
    case 'spawn':
      return outcomeOf(() =>
        driver.spawn(
          spec({ uuid, flavor: FLAVORS[cmd.f]!, powerOn: cmd.powerOn, metadata: { step: String(cmd.size) }, ...(cmd.n >= 0 ? { node: nodeName(cmd.n) } : {}) }),
        ),
      );
    case 'rebootSoft':
    case 'rebootHard':
      return outcomeOf(() => driver.reboot(uuid, cmd.op === 'rebootSoft' ? 'SOFT' : 'HARD'));
    case 'restoreStateRunning':
    case 'restoreStateShutdown':
    case 'restoreStatePaused':
    case 'restoreStateSuspended':
      return outcomeOf(() => driver.restoreState(uuid, cmd.op.slice('restoreState'.length).toUpperCase() as RestorableState));
    case 'rescue':
      return outcomeOf(() => driver.rescue(uuid, {}));
    case 'rebuild':
      return outcomeOf(() => driver.rebuild(uuid, { image: { ...IMAGE_2, properties: {} }, preserveEphemeral: false }));
    case 'snapshot':
      return outcomeOf(() => driver.snapshot(uuid, { name: 's' }));
    case 'attachVolume':
      return outcomeOf(() => driver.attachVolume(uuid, volume(vol, cmd.size)));
    case 'detachVolume':
      return outcomeOf(() => driver.detachVolume(uuid, vol));
    case 'extendVolume':
      return outcomeOf(() => driver.extendVolume(uuid, vol, cmd.size));
    case 'attachInterface':
      return outcomeOf(() => driver.attachInterface(uuid, vif(nic, cmd.d + 1)));
    case 'detachInterface':
      return outcomeOf(() => driver.detachInterface(uuid, nic));
    default: {
      const op = cmd.op;
      return outcomeOf(() => (driver[op] as (u: string) => Promise<unknown>).call(driver, uuid));
    }
  }
}

function expectedEventKinds(op: Op, from: SemanticState, to: SemanticState): readonly string[] | null {
  if (op === 'spawn') return to === 'RUNNING' ? ['STARTED'] : null;
  if (op === 'destroy') return from !== 'ABSENT' && ['RUNNING', 'PAUSED'].includes(powerStateOf(from as Existing)) ? ['STOPPED'] : null;
  if (from === 'ABSENT' || to === 'ABSENT' || powerStateOf(from) === powerStateOf(to)) return null;
  return eventKindsFor(to);
}

const commandArb: fc.Arbitrary<Command> = fc.record({
  // Spawn more often than the rest, so sequences hold instances to work on.
  op: fc.oneof(
    { arbitrary: fc.constant<Op>('spawn'), weight: 3 },
    { arbitrary: fc.constantFrom<Op>(...TABLE_OPERATIONS.filter((o) => o !== 'spawn'), 'crash', 'nostate'), weight: 20 },
  ),
  u: fc.nat(UUIDS.length - 1),
  d: fc.nat(VOLUMES.length - 1),
  size: fc.integer({ min: 1, max: 30 }),
  powerOn: fc.boolean(),
  f: fc.nat(FLAVORS.length - 1),
  n: fc.integer({ min: -1, max: 3 }),
});

/** A command with defaults: instance 0, device 0, size 10, powered on, the first flavor, no node asked for. */
function c(op: Op, over: Partial<Omit<Command, 'op'>> = {}): Command {
  return { op, u: 0, d: 0, size: 10, powerOn: true, f: 0, n: -1, ...over };
}

/**
 * Hand-written sequences run first (fast-check's `examples`, counted in numRuns), so every
 * outcome the coverage check below asks for is reached whatever the seed; they are judged
 * by the same model as the random sequences.
 */
const EXAMPLES: [Setup, Command[]][] = [
  [
    SETUPS[0]!,
    [
      c('getInfo'), c('spawn'), c('spawn'), c('spawn', { u: 1, f: 2 }), c('spawn', { u: 1, n: 1 }), c('getInfo'),
      c('attachVolume'), c('attachVolume'), c('extendVolume', { size: 20 }), c('extendVolume', { size: 5 }), c('extendVolume', { d: 1 }),
      c('detachVolume'), c('detachVolume'), c('attachInterface'), c('attachInterface'), c('detachInterface'), c('detachInterface'),
      c('getConsoleOutput'), c('rebootSoft'), c('rebootHard'), c('pause'), c('unpause'), c('suspend'), c('resume'),
      c('snapshot'), c('rescue'), c('unrescue'), c('powerOff'), c('pause'), c('powerOn'), c('rebuild'), c('destroy'),
    ],
  ],
  [SETUPS[1]!, [c('spawn', { n: 0 }), c('spawn', { u: 1, n: 0 }), c('spawn', { u: 1, n: 3 }), c('spawn', { u: 1 }), c('destroy'), c('destroy', { u: 1 })]],
];

describe('reference driver against the model', () => {
  it('agrees with expectedOutcome, device preconditions, inventory accounting and events on random sequences', async () => {
    // What the runs exercised, so the property cannot pass vacuously.
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SETUPS), fc.array(commandArb, { minLength: 1, maxLength: 60, size: 'max' }), async (setup, commands) => {
        const driver = makeDriver(setup);
        const events: LifecycleEvent[] = [];
        driver.subscribeEvents((e) => events.push(e));
        const model = new Map<string, ModelInstance>();

        for (const cmd of commands) {
          const uuid = UUIDS[cmd.u]!;
          const inst = model.get(uuid);
          const from: SemanticState = inst ? inst.state : 'ABSENT';
          const tableOp: TableOperation = cmd.op === 'crash' || cmd.op === 'nostate' ? 'getInfo' : cmd.op;
          // Hooks: INSTANCE_NOT_FOUND when absent (the getInfo column), otherwise always succeed.
          const outcome = expectedOutcome(from, tableOp, context(cmd.op, inst, cmd));
          let expected: ErrorCode | null = outcome.ok ? null : outcome.error;
          let to: SemanticState = outcome.ok ? (cmd.op === 'crash' ? 'CRASHED' : cmd.op === 'nostate' ? 'NOSTATE' : outcome.to) : from;
          const flavorUsage = expectedUsage(FLAVORS[cmd.f]!);
          if (expected === null && cmd.op === 'spawn') expected = placementError(setup, model, flavorUsage, cmd.n);
          const vol = VOLUMES[cmd.d]!;
          if (expected === null && cmd.op === 'extendVolume') {
            const current = inst!.volumes.get(vol);
            if (current !== undefined && cmd.size < current) expected = 'INVALID_INPUT';
          }
          if (expected !== null) to = from;

          const eventsBefore = events.length;
          const got = await run(driver, cmd);
          expect(got, `${cmd.op} on ${uuid} in ${from}`).toBe(expected);
          seen.add(`${cmd.op}:${got ?? 'ok'}`);

          // Advance the model.
          if (expected === null) {
            if (to === 'ABSENT') model.delete(uuid);
            else if (cmd.op === 'spawn') {
              // The node: the one asked for, or the one the driver chose, which must have been free.
              const node = (await driver.getInfo(uuid)).node;
              if (cmd.n >= 0) expect(node).toBe(nodeName(cmd.n));
              else if (setup.nodes > 1) expect([...model.values()].map((m) => m.node)).not.toContain(node);
              model.set(uuid, { state: to, volumes: new Map(), interfaces: new Set(), usage: flavorUsage, node });
            }
            else {
              const m = inst!;
              m.state = to;
              const nic = VIFS[cmd.d]!;
              if (cmd.op === 'attachVolume') m.volumes.set(vol, cmd.size);
              if (cmd.op === 'detachVolume') m.volumes.delete(vol);
              if (cmd.op === 'extendVolume') m.volumes.set(vol, cmd.size);
              if (cmd.op === 'attachInterface') m.interfaces.add(nic);
              if (cmd.op === 'detachInterface') m.interfaces.delete(nic);
            }
          }

          // Events of this step.
          const stepEvents = events.slice(eventsBefore);
          const kinds = expected === null ? (cmd.op === 'crash' ? (from !== 'CRASHED' ? ['CRASHED'] : null) : cmd.op === 'nostate' ? null : expectedEventKinds(cmd.op, from, to)) : null;
          if (kinds === null) expect(stepEvents, `no event for ${cmd.op} ${from}->${to}`).toEqual([]);
          else {
            expect(stepEvents).toHaveLength(1);
            expect(kinds).toContain(stepEvents[0]!.kind);
            expect(stepEvents[0]!.uuid).toBe(uuid);
          }

          // Observations: every instance's state and devices, the list, the inventory.
          for (const u of UUIDS) {
            const m = model.get(u);
            if (!m) {
              expect(await outcomeOf(() => driver.getInfo(u))).toBe('INSTANCE_NOT_FOUND');
              continue;
            }
            const info = await driver.getInfo(u);
            expect(info.mode === 'rescue' ? 'RESCUE' : info.powerState).toBe(m.state);
            const vols = [...m.volumes.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([volumeId, sizeGb]) => ({ volumeId, sizeGb }));
            expect(info.volumes).toEqual(vols);
            expect(info.interfaces.map((i) => i.id)).toEqual([...m.interfaces].sort());
            expect(info.node).toBe(m.node);
          }
          expect((await driver.listInstances()).map((i) => i.uuid).sort()).toEqual([...model.keys()].sort());
          const totals: Record<string, number> = {};
          for (const m of model.values()) for (const [cls, n] of Object.entries(m.usage)) totals[cls] = (totals[cls] ?? 0) + n;
          const used = usedTotals(await driver.getInventory());
          for (const cls of Object.keys(setup.capacity)) expect(used[cls], cls).toBe(totals[cls] ?? 0);
          if (setup.nodes > 1) {
            const busy = (await driver.listNodes()).filter((n) => !n.available);
            expect(busy.map((n) => n.instanceUuid).sort()).toEqual([...model.keys()].sort());
            expect(busy.map((n) => n.id).sort()).toEqual([...model.values()].map((m) => m.node).sort());
          }
        }
      }),
      { numRuns: 300, examples: EXAMPLES },
    );
    for (const op of TABLE_OPERATIONS) expect(seen, `${op} succeeded in some run`).toContain(`${op}:ok`);
    for (const code of ['INSUFFICIENT_RESOURCES', 'INSTANCE_EXISTS', 'NODE_NOT_FOUND', 'NODE_UNAVAILABLE']) expect(seen).toContain(`spawn:${code}`);
    for (const key of ['attachVolume:VOLUME_ALREADY_ATTACHED', 'detachVolume:VOLUME_NOT_ATTACHED', 'extendVolume:VOLUME_NOT_ATTACHED', 'extendVolume:INVALID_INPUT', 'attachInterface:INTERFACE_ALREADY_ATTACHED', 'detachInterface:INTERFACE_NOT_ATTACHED', 'pause:INVALID_STATE', 'getInfo:INSTANCE_NOT_FOUND']) {
      expect(seen).toContain(key);
    }
  });
});
