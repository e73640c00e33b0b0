import fc from 'fast-check';
import { OPERATIONS, TABLE_OPERATIONS, VifTypeSchema, operationOfColumn, supports, type CapabilityId, type DriverCapabilities, type FlavorInput, type OperationName, type TableOperation } from '@nova-common/core';
import { RUN_ID_KEY, type ResolvedOptions } from '../config.js';
import { FLAVOR_RANGE, metadataArb, nameArb, OVERSIZED_FLAVOR, POOL_VIFS, POOL_VOLUMES, smallFlavor, type Pools } from '../model/arbitraries.js';
import { usageOf, type Model } from '../model/model.js';
import { generatorOf, makeCall, NETWORK } from './arguments.js';
import { SEQUENCE_OPS, shapeOf, type Call, type ContractCall, type SequenceOp, type SequencedCall, type SpawnVariant } from './call.js';
import { SequenceSource } from './sources.js';
import { caseOf, LETTER_CASES, NAMINGS, spawnName } from './variety.js';

/**
 * What a generated command means, before it meets the model: instances, volumes and
 * interfaces are named by slot or by a pick among what the model has, so a command stays
 * meaningful when fast-check shrinks the sequence around it. `resolve` turns an intent into
 * concrete calls against the model.
 */
export type Intent =
  | {
      kind: 'spawn';
      slot: number;
      name: string;
      metadata: Record<string, string>;
      flavor: FlavorInput;
      image: number;
      powerOn: boolean;
      volumes: number[];
      vifs: number[];
      variant: SpawnVariant;
      /** When the slot's instance is live: spawn in a free slot instead (else INSTANCE_EXISTS). */
      fresh: boolean;
      /** The letter case the uuid is written in (see caseOf). */
      letters: number;
      /** The name: its own, or one sharing a live instance's name or its prefix (see spawnName). */
      naming: number;
    }
  | {
      /** Any other operation: its arguments come from its generator (arguments.ts) and `pick`. */
      kind: 'call';
      op: SequenceOp;
      slot: number;
      pick: number;
      twice: boolean;
      /** The letter case the target's uuid is written in (see caseOf). */
      letters?: number;
      text?: string;
      metadata?: Record<string, string> | undefined;
      /** The table column the call must answer to (explore). */
      column?: TableOperation;
    }
  | { kind: 'simulate'; which: 'crash' | 'noState'; slot: number }
  /** An operation chosen when it runs: one not yet called in this sequence in the target's current state. */
  | { kind: 'explore'; slot: number; pick: number; letters?: number };

/** Operations a `call` intent makes: all but those creating an instance (the spawn intent). */
const CALL_OPS: readonly SequenceOp[] = SEQUENCE_OPS.filter((op) => shapeOf(op).spec < 0);

/** The table columns `explore` chooses from: every column of those operations. */
const EXPLORE_COLUMNS: readonly TableOperation[] = TABLE_OPERATIONS.filter((c) => (CALL_OPS as readonly OperationName[]).includes(operationOfColumn(c)));

/** The model fast-check's commands see: the model plus this sequence's pools. */
export interface SequenceModel {
  model: Model;
  pools: Pools;
}

/** Which commands a run may generate: declared capabilities, the profile filter, and commands left out after a failure. */
export interface CommandScope {
  caps: DriverCapabilities;
  /** Capabilities the profile filter keeps (undefined: all). */
  allowed: ReadonlySet<CapabilityId> | undefined;
  /** Command keys left out (an operation, or spawn:<variant>). */
  excluded: ReadonlySet<string>;
  maxInstances: number;
  images: number;
  simulate: { crash: boolean; noState: boolean };
}

export function opAllowed(scope: Pick<CommandScope, 'caps' | 'allowed' | 'excluded'>, op: OperationName): boolean {
  if (scope.excluded.has(op)) return false;
  const cap = OPERATIONS[op].capability;
  if (cap === null) return true;
  return supports(scope.caps, cap) && (scope.allowed === undefined || scope.allowed.has(cap) || OPERATIONS[op].mandatory);
}

/** The explorable columns a scope allows, computed once per scope. */
const exploreCache = new WeakMap<object, readonly TableOperation[]>();
function exploreColumns(scope: Pick<CommandScope, 'caps' | 'allowed' | 'excluded'>): readonly TableOperation[] {
  let columns = exploreCache.get(scope);
  if (columns === undefined) {
    columns = EXPLORE_COLUMNS.filter((c) => opAllowed(scope, operationOfColumn(c)));
    exploreCache.set(scope, columns);
  }
  return columns;
}

/** Weighted arbitraries of intents for every command the scope allows. */
export function intentArbitraries(scope: CommandScope): fc.Arbitrary<Intent>[] {
  const k = scope.maxInstances;
  const slot = fc.nat({ max: k - 1 });
  // Target slots (see slotUuid): mostly a live instance (7 in 10), sometimes a pool uuid as
  // is (live, destroyed or never spawned; 2 in 10), now and then the uuid that is never
  // spawned. One integer carries the slot, the pick and whether to repeat the call: cheap to
  // draw, and it shrinks to the first live instance, the plain choices, no repeat.
  const slotOf = (n: number): number => {
    const w = n % 10;
    const j = Math.floor(n / 10) % k;
    return w < 7 ? j : w < 9 ? k + j : 2 * k;
  };
  const SLOTS = 10 * k;
  const PICKS = 1024;
  const packed = fc.nat({ max: SLOTS * PICKS * 2 * LETTER_CASES - 1 });
  const unpack = (n: number): { slot: number; pick: number; twice: boolean; letters: number } => ({
    slot: slotOf(n % SLOTS),
    pick: Math.floor(n / SLOTS) % PICKS,
    twice: Math.floor(n / (SLOTS * PICKS)) % 2 === 1,
    letters: Math.floor(n / (SLOTS * PICKS * 2)),
  });
  const out: fc.Arbitrary<Intent>[] = [];
  const add = (op: OperationName, arb: fc.Arbitrary<Intent>, weight = 1): void => {
    if (!opAllowed(scope, op)) return;
    for (let i = 0; i < weight; i++) out.push(arb);
  };

  const variants: SpawnVariant[] = ['normal'];
  if (!scope.excluded.has('spawn:oversized')) variants.push('oversized');
  if (scope.caps.multiNode && !scope.excluded.has('spawn:unknownNode')) variants.push('unknownNode');
  if (undeclaredVifType(scope.caps) !== undefined && !scope.excluded.has('spawn:undeclaredVifType')) variants.push('undeclaredVifType');
  const withVolumes = !scope.excluded.has('spawn:volumes');
  // The spawn's small choices in one integer (it shrinks to the smallest flavor, the first
  // image, powered on, no devices, a spawn that should succeed): the flavor's sizes; the image;
  // powerOn (4 in 5); up to two volumes and two interfaces of the pools (bit masks); the
  // variant (1 in 9 drawn among the variants).
  const span = (r: readonly [number, number]): number => r[1] - r[0] + 1;
  const { vcpus: cpuRange, memoryMb: memRange, rootGb: rootRange } = FLAVOR_RANGE;
  const choices = [span(cpuRange), span(memRange), span(rootRange), scope.images, 5, 1 << POOL_VOLUMES, 1 << POOL_VIFS, 8 + variants.length];
  // Beyond those, in a second integer: a free slot when the drawn one is live (3 in 4), the
  // uuid's letter case, the name's sharing with a live instance.
  const more = fc.nat({ max: 4 * LETTER_CASES * NAMINGS - 1 });
  const spawn = fc
    .record({ slot, name: nameArb, metadata: metadataArb, n: fc.nat({ max: choices.reduce((a, b) => a * b) - 1 }), m: more })
    .map(({ slot: target, name, metadata, n, m }): Intent => {
      const [cpus, mem, root, image, power, volumes, vifs, variant] = choices.map((c) => {
        const v = n % c;
        n = Math.floor(n / c);
        return v;
      }) as [number, number, number, number, number, number, number, number];
      const flavor = smallFlavor(cpuRange[0] + cpus, memRange[0] + mem, rootRange[0] + root);
      return {
        kind: 'spawn',
        slot: target,
        name,
        metadata,
        flavor,
        image,
        powerOn: power < 4,
        volumes: withVolumes ? upToTwo(volumes) : [],
        vifs: upToTwo(vifs),
        variant: variant < 8 ? 'normal' : variants[variant - 8]!,
        fresh: m % 4 !== 3,
        letters: Math.floor(m / 4) % LETTER_CASES,
        naming: Math.floor(m / (4 * LETTER_CASES)),
      };
    });
  // Spawn often enough that sequences hold two or three live instances (every step checks the
  // ones it was not about).
  add('spawn', spawn, 6);
  for (const op of CALL_OPS) {
    const generator = generatorOf(op);
    // Text and metadata are drawn only for the generators that use them (they cost the most to draw).
    const arb: fc.Arbitrary<Intent> =
      generator?.text || generator?.metadata
        ? fc
            .tuple(packed, generator.text ? nameArb : fc.constant(undefined), generator.metadata ? fc.option(metadataArb, { nil: undefined }) : fc.constant(undefined))
            .map(([n, text, metadata]): Intent => ({ kind: 'call', op, ...unpack(n), ...(text === undefined ? {} : { text }), ...(metadata === undefined ? {} : { metadata }) }))
        : packed.map((n): Intent => ({ kind: 'call', op, ...unpack(n) }));
    add(op, arb, generator?.weight ?? 1);
  }
  // Coverage-directed commands: in whatever state the target is, call what this sequence has
  // not called in that state yet (so every cell of the table is reached in short sequences).
  if (exploreColumns(scope).length > 0) {
    const explore = packed.map((n): Intent => {
      const { slot: target, pick, letters } = unpack(n);
      return { kind: 'explore', slot: target, pick, letters };
    });
    for (let i = 0; i < 12; i++) out.push(explore);
  }
  const sims: ('crash' | 'noState')[] = [];
  if (scope.simulate.crash && !scope.excluded.has('simulateCrash')) sims.push('crash');
  if (scope.simulate.noState && !scope.excluded.has('simulateNoState')) sims.push('noState');
  if (sims.length > 0) out.push(fc.record({ kind: fc.constant('simulate' as const), which: fc.constantFrom(...sims), slot }));
  return out;
}

/** The pool indices a bit mask names, at most two of them. */
function upToTwo(mask: number): number[] {
  const out: number[] = [];
  for (let i = 0; mask >> i !== 0 && out.length < 2; i++) if ((mask >> i) & 1) out.push(i);
  return out;
}

/**
 * The uuid a target slot names: `slot < k` picks the (slot mod n)-th live instance (the pool
 * uuid when none is live), `k <= slot < 2k` the pool uuid `slot - k` whatever its state, and
 * `2k` the pool uuid that is never spawned.
 */
function slotUuid(s: SequenceModel, slot: number, k: number): string {
  const { model, pools } = s;
  if (slot >= 2 * k) return pools.uuids[k]!;
  if (slot >= k) return pools.uuids[slot - k]!;
  const n = model.instances.size;
  if (n === 0) return pools.uuids[slot]!;
  let i = slot % n;
  for (const inst of model.instances.values()) if (i-- === 0) return inst.uuid;
  return pools.uuids[slot]!;
}

/**
 * The pool slot a spawn uses: the one drawn, or, when its instance is live, there is room and
 * the intent asks for a fresh one, the first free slot (so sequences grow to several live
 * instances rather than meeting INSTANCE_EXISTS again and again).
 */
function spawnSlot(s: SequenceModel, intent: Extract<Intent, { kind: 'spawn' }>, k: number): number {
  const { model, pools } = s;
  if (!intent.fresh || model.get(pools.uuids[intent.slot]!) === undefined || !hasRoom(model, k)) return intent.slot;
  for (let i = 0; i < k; i++) if (model.get(pools.uuids[i]!) === undefined) return i;
  return intent.slot;
}

function hasRoom(model: Model, k: number): boolean {
  return model.instances.size < k && (!model.multiNode || model.instances.size < model.baselineAvailableNodes);
}

/** Whether the intent can run in this model state (fast-check's command precondition). */
export function canRun(s: SequenceModel, intent: Intent, maxInstances: number): boolean {
  const { model, pools } = s;
  switch (intent.kind) {
    case 'spawn': {
      if (intent.slot >= maxInstances) return false;
      if (model.get(pools.uuids[intent.slot]!)) return true;
      return hasRoom(model, maxInstances);
    }
    case 'simulate':
      return model.get(slotUuid(s, intent.slot, maxInstances)) !== undefined;
    default:
      return true;
  }
}

/** The concrete intent an `explore` intent stands for in the current model state. */
function explore(s: SequenceModel, intent: Extract<Intent, { kind: 'explore' }>, scope: Pick<CommandScope, 'caps' | 'allowed' | 'excluded'>, k: number): Intent {
  const uuid = slotUuid(s, intent.slot, k);
  const state = s.model.stateOf(uuid);
  const allowed = exploreColumns(scope);
  const fresh = allowed.filter((c) => !s.model.isCovered(state, c));
  const list = fresh.length > 0 ? fresh : allowed;
  const column = list[intent.pick % list.length]!;
  // Name the instance by its pool slot, so the concrete intent targets the same uuid.
  const index = s.pools.uuids.indexOf(uuid.toLowerCase());
  const slot = index >= 0 ? k + index : intent.slot;
  const p = intent.pick;
  return { kind: 'call', op: operationOfColumn(column) as SequenceOp, slot, pick: p, twice: (p & 2) !== 0, text: 'explore', column, letters: intent.letters ?? 0 };
}

const defaultScope = new WeakMap<Model, Pick<CommandScope, 'caps' | 'allowed' | 'excluded'>>();

/**
 * Turn an intent into concrete calls (two when an idempotent call is repeated). Synchronous
 * unless a spawn or a generator waits for a volume's connection info.
 */
export function resolveIntent(
  s: SequenceModel,
  intent: Intent,
  options: ResolvedOptions,
  scope?: Pick<CommandScope, 'caps' | 'allowed' | 'excluded'>,
): SequencedCall[] | Promise<SequencedCall[]> {
  const { model, pools } = s;
  if (intent.kind === 'explore') {
    let sc = scope ?? defaultScope.get(model);
    if (sc === undefined) defaultScope.set(model, (sc = { caps: model.caps, allowed: undefined, excluded: new Set() }));
    return resolveIntent(s, explore(s, intent, sc, options.maxInstances), options, sc);
  }
  const k = options.maxInstances;
  const uuid = intent.kind === 'spawn' ? caseOf(pools.uuids[spawnSlot(s, intent, k)]!, intent.letters) : slotUuid(s, intent.slot, k);
  switch (intent.kind) {
    case 'spawn':
      return spawnCall(s, intent, uuid, options).then((call) => [call]);
    case 'call': {
      const target = caseOf(uuid, intent.letters ?? 0);
      const source = new SequenceSource(model, pools, target, intent.pick, options, intent.text ?? 'x', intent.metadata);
      const call = makeCall(intent.op, target, source, intent.column);
      return call instanceof Promise ? call.then((c) => repeated(c, intent.twice)) : repeated(call, intent.twice);
    }
    case 'simulate':
      return [{ op: intent.which === 'crash' ? 'simulateCrash' : 'simulateNoState', uuid }];
  }
}

/** The call, and its repeat when asked and the operation is idempotent. */
function repeated(call: ContractCall | undefined, twice: boolean): SequencedCall[] {
  if (call === undefined) return [];
  return twice && OPERATIONS[call.op].idempotent ? [call, { ...call, repeat: true }] : [call];
}

/** The spawn an intent stands for: devices the model has free, the variant only where it must fail. */
async function spawnCall(s: SequenceModel, intent: Extract<Intent, { kind: 'spawn' }>, uuid: string, options: ResolvedOptions): Promise<Call> {
  const { model, pools } = s;
  const runId = options.runId;
  const volumes = [];
  for (const v of intent.volumes) {
    const volumeId = pools.volumes[v]!;
    if (model.volumeOwner(volumeId) !== undefined) continue;
    volumes.push({ volumeId, sizeGb: 2, deleteOnTermination: false, connectionInfo: await options.volumeConnection(volumeId) });
  }
  let variant = intent.variant;
  const freeVifs = pools.vifs.filter((v) => model.interfaceOwner(v.id) === undefined);
  const vifType = variant === 'undeclaredVifType' ? undeclaredVifType(model.caps) : undefined;
  if (variant === 'undeclaredVifType' && (vifType === undefined || model.get(uuid) !== undefined || freeVifs.length === 0)) variant = 'normal';
  const chosen = intent.vifs.map((i) => pools.vifs[i]!).filter((v) => model.interfaceOwner(v.id) === undefined);
  // The planned refusal needs one VIF: the first free one of the pool when the intent drew none.
  const vifs = variant === 'undeclaredVifType' && chosen.length === 0 ? [freeVifs[0]!] : chosen;
  const networkInfo = vifs.map((v, i) => ({
    id: v.id,
    address: v.address,
    network: NETWORK,
    ...(variant === 'undeclaredVifType' && i === 0 ? { type: vifType! } : {}),
  }));
  let flavor = intent.flavor;
  if (variant === 'oversized') {
    if (model.get(uuid) === undefined && model.neverFits(usageOf(OVERSIZED_FLAVOR))) flavor = OVERSIZED_FLAVOR;
    else variant = 'normal';
  }
  if (variant === 'unknownNode' && (!model.multiNode || model.get(uuid) !== undefined)) variant = 'normal';
  const spec = {
    uuid,
    name: spawnName(model, `${runId}-${intent.name}`, uuid, intent.naming),
    flavor,
    image: options.images[intent.image % options.images.length]!,
    metadata: { ...intent.metadata, [RUN_ID_KEY]: runId },
    networkInfo,
    blockDeviceInfo: { ephemerals: [], volumes },
    powerOn: intent.powerOn,
    ...(variant === 'unknownNode' ? { node: 'nova-conformance-no-such-node' } : {}),
  };
  return { op: 'spawn', spec, ...(variant !== 'normal' ? { variant } : {}) };
}

/** One line per intent for fast-check's listing of a failing sequence. */
export function describeIntent(intent: Intent): string {
  switch (intent.kind) {
    case 'spawn':
      return `spawn(slot ${intent.slot}${intent.variant !== 'normal' ? `, ${intent.variant}` : ''}${intent.powerOn ? '' : ', powerOn=false'}, volumes ${JSON.stringify(intent.volumes)}, vifs ${JSON.stringify(intent.vifs)})`;
    case 'call':
      return `${intent.column ?? intent.op}(slot ${intent.slot}, pick ${intent.pick})${intent.twice && OPERATIONS[intent.op].idempotent ? ' x2' : ''}`;
    case 'simulate':
      return `simulate ${intent.which}(slot ${intent.slot})`;
    case 'explore':
      return `explore(slot ${intent.slot}, ${intent.pick})`;
  }
}

/** The first VIF type the driver's capabilities leave out, when they declare vifTypes (R-SPAWN-VIF-TYPE). */
export function undeclaredVifType(caps: DriverCapabilities): (typeof VifTypeSchema.options)[number] | undefined {
  if (caps.vifTypes === undefined) return undefined;
  return VifTypeSchema.options.find((t) => !caps.vifTypes!.includes(t));
}
