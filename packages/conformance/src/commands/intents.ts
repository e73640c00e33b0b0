import fc from 'fast-check';
import { OPERATIONS, supports, type CapabilityId, type DriverCapabilities, type FlavorInput, type ImageMetaInput, type OperationName } from '@nova-common/core';
import { RUN_ID_KEY, type ResolvedOptions } from '../config.js';
import { flavorArb, metadataArb, nameArb, OVERSIZED_FLAVOR, POOL_VIFS, POOL_VOLUMES, type Pools } from '../model/arbitraries.js';
import { usageOf, type Model } from '../model/model.js';
import type { Call, SequencedCall, SimpleOp, SpawnVariant } from './call.js';

/**
 * What a generated command means, before it meets the model: instances, volumes and
 * interfaces are named by slot, so a command stays meaningful when fast-check shrinks the
 * sequence around it. `resolve` turns an intent into concrete calls against the model.
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
    }
  | { kind: 'simple'; op: Exclude<SimpleOp, 'getInfo' | 'getConsoleOutput'> | 'powerOff'; slot: number; twice: boolean }
  | { kind: 'observe'; op: 'getInfo' | 'getConsoleOutput'; slot: number }
  | { kind: 'reboot'; slot: number; type: 'SOFT' | 'HARD' }
  | { kind: 'rescue'; slot: number; image: number | undefined; twice: boolean }
  | { kind: 'rebuild'; slot: number; image: number; metadata: Record<string, string> | undefined }
  | { kind: 'snapshot'; slot: number; name: string }
  | { kind: 'deleteSnapshot'; which: number; twice: boolean }
  | { kind: 'attachVolume'; slot: number; vol: number; sizeGb: number | undefined }
  | { kind: 'detachVolume'; slot: number; vol: number }
  | { kind: 'extendVolume'; slot: number; vol: number; grow: number }
  | { kind: 'attachInterface'; slot: number; vif: number }
  | { kind: 'detachInterface'; slot: number; vif: number }
  | { kind: 'simulate'; which: 'crash' | 'noState'; slot: number }
  /** An operation chosen when it runs: one not yet called in this sequence in the target's current state. */
  | { kind: 'explore'; slot: number; pick: number };

/** The table columns `explore` chooses from, with the intent each one becomes. */
const EXPLORE_OPS = [
  'destroy', 'getInfo', 'powerOff', 'powerOn', 'rebootSoft', 'rebootHard', 'pause', 'unpause', 'suspend', 'resume', 'rescue', 'unrescue',
  'rebuild', 'snapshot', 'attachVolume', 'detachVolume', 'extendVolume', 'attachInterface', 'detachInterface', 'getConsoleOutput',
] as const;
type ExploreOp = (typeof EXPLORE_OPS)[number];

const contractOpOf = (op: ExploreOp): OperationName => (op === 'rebootSoft' || op === 'rebootHard' ? 'reboot' : op);

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

export function opAllowed(scope: CommandScope, op: OperationName): boolean {
  if (scope.excluded.has(op)) return false;
  const cap = OPERATIONS[op].capability;
  if (cap === null) return true;
  return supports(scope.caps, cap) && (scope.allowed === undefined || scope.allowed.has(cap) || OPERATIONS[op].mandatory);
}

/** Weighted arbitraries of intents for every command the scope allows. */
export function intentArbitraries(scope: CommandScope): fc.Arbitrary<Intent>[] {
  const k = scope.maxInstances;
  const slot = fc.nat({ max: k - 1 });
  // Target slots (see slotUuid): mostly a live instance, sometimes a pool uuid as is (live,
  // destroyed or never spawned), now and then the uuid that is never spawned.
  const anySlot = fc.oneof(
    { weight: 7, arbitrary: slot },
    { weight: 2, arbitrary: fc.integer({ min: k, max: 2 * k - 1 }) },
    { weight: 1, arbitrary: fc.constant(2 * k) },
  );
  const twice = fc.boolean();
  const image = fc.nat({ max: scope.images - 1 });
  const out: fc.Arbitrary<Intent>[] = [];
  const add = (op: OperationName, arb: fc.Arbitrary<Intent>, weight = 1): void => {
    if (!opAllowed(scope, op)) return;
    for (let i = 0; i < weight; i++) out.push(arb);
  };

  const variants: SpawnVariant[] = ['normal'];
  if (!scope.excluded.has('spawn:oversized')) variants.push('oversized');
  if (scope.caps.multiNode && !scope.excluded.has('spawn:unknownNode')) variants.push('unknownNode');
  const spawn = fc.record({
    kind: fc.constant('spawn' as const),
    slot,
    name: nameArb,
    metadata: metadataArb,
    flavor: flavorArb,
    image,
    powerOn: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    volumes: scope.excluded.has('spawn:volumes') ? fc.constant<number[]>([]) : fc.uniqueArray(fc.nat({ max: POOL_VOLUMES - 1 }), { maxLength: 2 }),
    vifs: fc.uniqueArray(fc.nat({ max: POOL_VIFS - 1 }), { maxLength: 2 }),
    variant: fc.oneof({ weight: 8, arbitrary: fc.constant('normal' as SpawnVariant) }, { weight: 1, arbitrary: fc.constantFrom(...variants) }),
  });
  add('spawn', spawn, 4);
  add('destroy', fc.record({ kind: fc.constant('simple' as const), op: fc.constant('destroy' as const), slot: anySlot, twice }), 2);
  add('getInfo', fc.record({ kind: fc.constant('observe' as const), op: fc.constant('getInfo' as const), slot: anySlot }));
  for (const op of ['powerOff', 'powerOn', 'pause', 'unpause', 'suspend', 'resume', 'unrescue'] as const) {
    add(op, fc.record({ kind: fc.constant('simple' as const), op: fc.constant(op), slot: anySlot, twice }));
  }
  add('reboot', fc.record({ kind: fc.constant('reboot' as const), slot: anySlot, type: fc.constantFrom('SOFT' as const, 'HARD' as const) }));
  add('rescue', fc.record({ kind: fc.constant('rescue' as const), slot: anySlot, image: fc.option(image, { nil: undefined }), twice }));
  add('rebuild', fc.record({ kind: fc.constant('rebuild' as const), slot: anySlot, image, metadata: fc.option(metadataArb, { nil: undefined }) }));
  add('snapshot', fc.record({ kind: fc.constant('snapshot' as const), slot: anySlot, name: nameArb }));
  add('deleteSnapshot', fc.record({ kind: fc.constant('deleteSnapshot' as const), which: fc.integer({ min: -1, max: 3 }), twice }));
  add('attachVolume', fc.record({ kind: fc.constant('attachVolume' as const), slot: anySlot, vol: fc.nat({ max: POOL_VOLUMES - 1 }), sizeGb: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }) }), 2);
  add('detachVolume', fc.record({ kind: fc.constant('detachVolume' as const), slot: anySlot, vol: fc.nat({ max: POOL_VOLUMES - 1 }) }));
  add('extendVolume', fc.record({ kind: fc.constant('extendVolume' as const), slot: anySlot, vol: fc.nat({ max: POOL_VOLUMES - 1 }), grow: fc.integer({ min: 1, max: 3 }) }));
  add('attachInterface', fc.record({ kind: fc.constant('attachInterface' as const), slot: anySlot, vif: fc.nat({ max: POOL_VIFS - 1 }) }), 2);
  add('detachInterface', fc.record({ kind: fc.constant('detachInterface' as const), slot: anySlot, vif: fc.nat({ max: POOL_VIFS - 1 }) }));
  add('getConsoleOutput', fc.record({ kind: fc.constant('observe' as const), op: fc.constant('getConsoleOutput' as const), slot: anySlot }));
  // Coverage-directed commands: in whatever state the target is, call what this sequence has
  // not called in that state yet (so every cell of the table is reached in short sequences).
  if (EXPLORE_OPS.some((op) => opAllowed(scope, contractOpOf(op)))) {
    const explore = fc.record({ kind: fc.constant('explore' as const), slot: anySlot, pick: fc.nat({ max: 1023 }) });
    for (let i = 0; i < 12; i++) out.push(explore);
  }
  const sims: ('crash' | 'noState')[] = [];
  if (scope.simulate.crash && !scope.excluded.has('simulateCrash')) sims.push('crash');
  if (scope.simulate.noState && !scope.excluded.has('simulateNoState')) sims.push('noState');
  if (sims.length > 0) out.push(fc.record({ kind: fc.constant('simulate' as const), which: fc.constantFrom(...sims), slot }));
  return out;
}

/**
 * The uuid a target slot names: `slot < k` picks the (slot mod n)-th live instance (the pool
 * uuid when none is live), `k <= slot < 2k` the pool uuid `slot - k` whatever its state, and
 * `2k` the pool uuid that is never spawned.
 */
export function slotUuid(s: SequenceModel, slot: number, k: number): string {
  const { model, pools } = s;
  if (slot >= 2 * k) return pools.uuids[k]!;
  if (slot >= k) return pools.uuids[slot - k]!;
  const n = model.instances.size;
  if (n === 0) return pools.uuids[slot]!;
  let i = slot % n;
  for (const inst of model.instances.values()) if (i-- === 0) return inst.uuid;
  return pools.uuids[slot]!;
}

/** Whether the intent can run in this model state (fast-check's command precondition). */
export function canRun(s: SequenceModel, intent: Intent, maxInstances: number): boolean {
  const { model, pools } = s;
  switch (intent.kind) {
    case 'spawn': {
      if (intent.slot >= maxInstances) return false;
      if (model.get(pools.uuids[intent.slot]!)) return true;
      return model.instances.size < maxInstances && (!model.multiNode || model.instances.size < model.baselineAvailableNodes);
    }
    case 'attachVolume': {
      const owner = model.volumeOwner(pools.volumes[intent.vol]!);
      return owner === undefined || owner.toLowerCase() === slotUuid(s, intent.slot, maxInstances);
    }
    case 'attachInterface': {
      const owner = model.interfaceOwner(pools.vifs[intent.vif]!.id);
      return owner === undefined || owner.toLowerCase() === slotUuid(s, intent.slot, maxInstances);
    }
    case 'simulate':
      return model.get(slotUuid(s, intent.slot, maxInstances)) !== undefined;
    default:
      return true;
  }
}

function withRunId(runId: string, metadata: Record<string, string>): Record<string, string> {
  return { ...metadata, [RUN_ID_KEY]: runId };
}

function pick(images: ImageMetaInput[], i: number): ImageMetaInput {
  return images[i % images.length]!;
}

/** The concrete intent an `explore` intent stands for in the current model state. */
function explore(s: SequenceModel, intent: Extract<Intent, { kind: 'explore' }>, scope: Pick<CommandScope, 'caps' | 'allowed' | 'excluded'>, k: number): Intent {
  const uuid = slotUuid(s, intent.slot, k);
  const state = s.model.stateOf(uuid);
  const allowed = EXPLORE_OPS.filter((op) => opAllowed(scope as CommandScope, contractOpOf(op)));
  const fresh = allowed.filter((op) => !s.model.covered.has(`${state}:${op}`));
  const list = fresh.length > 0 ? fresh : allowed;
  const op = list[intent.pick % list.length]!;
  // Name the instance by its pool slot, so the concrete intent targets the same uuid.
  const index = s.pools.uuids.indexOf(uuid);
  const slot = index >= 0 ? k + index : intent.slot;
  const p = intent.pick;
  switch (op) {
    case 'getInfo':
    case 'getConsoleOutput':
      return { kind: 'observe', op, slot };
    case 'rebootSoft':
    case 'rebootHard':
      return { kind: 'reboot', slot, type: op === 'rebootSoft' ? 'SOFT' : 'HARD' };
    case 'rescue':
      return { kind: 'rescue', slot, image: undefined, twice: (p & 2) !== 0 };
    case 'rebuild':
      return { kind: 'rebuild', slot, image: p, metadata: undefined };
    case 'snapshot':
      return { kind: 'snapshot', slot, name: 'explore' };
    case 'attachVolume':
    case 'detachVolume':
    case 'extendVolume': {
      const inst = s.model.get(uuid);
      const attached = inst ? [...inst.volumes.keys()] : [];
      const free = s.pools.volumes.filter((v) => s.model.volumeOwner(v) === undefined);
      // Mostly the meaningful volume (a free one to attach, an attached one otherwise); else the wrong one, for the device errors.
      const right = op === 'attachVolume' ? free : attached;
      const wrong = op === 'attachVolume' ? attached : free;
      const pool = (p & 1) === 0 && right.length > 0 ? right : wrong.length > 0 ? wrong : right;
      const id = pool.length > 0 ? pool[(p >> 2) % pool.length]! : s.pools.volumes[0]!;
      const vol = s.pools.volumes.indexOf(id);
      if (op === 'attachVolume') return { kind: 'attachVolume', slot, vol, sizeGb: 1 + (p % 3) };
      if (op === 'detachVolume') return { kind: 'detachVolume', slot, vol };
      return { kind: 'extendVolume', slot, vol, grow: 1 + (p % 3) };
    }
    case 'attachInterface':
    case 'detachInterface': {
      const inst = s.model.get(uuid);
      const attached = inst ? [...inst.interfaces.keys()] : [];
      const free = s.pools.vifs.map((v) => v.id).filter((v) => s.model.interfaceOwner(v) === undefined);
      const right = op === 'attachInterface' ? free : attached;
      const wrong = op === 'attachInterface' ? attached : free;
      const pool = (p & 1) === 0 && right.length > 0 ? right : wrong.length > 0 ? wrong : right;
      const id = pool.length > 0 ? pool[(p >> 2) % pool.length]! : s.pools.vifs[0]!.id;
      const vif = s.pools.vifs.findIndex((v) => v.id === id);
      return op === 'attachInterface' ? { kind: 'attachInterface', slot, vif } : { kind: 'detachInterface', slot, vif };
    }
    default:
      return { kind: 'simple', op, slot, twice: (p & 2) !== 0 };
  }
}

/** Turn an intent into concrete calls (two when an idempotent call is repeated). */
export async function resolveIntent(s: SequenceModel, intent: Intent, options: ResolvedOptions, scope?: Pick<CommandScope, 'caps' | 'allowed' | 'excluded'>): Promise<SequencedCall[]> {
  const { model, pools } = s;
  if (intent.kind === 'explore') {
    const concrete = explore(s, intent, scope ?? { caps: model.caps, allowed: undefined, excluded: new Set() }, options.maxInstances);
    // A volume or interface the model says belongs to another instance cannot be attached here.
    if (!canRun(s, concrete, options.maxInstances)) return [];
    return resolveIntent(s, concrete, options, scope);
  }
  const slot = (intent as { slot?: number }).slot ?? 0;
  const uuid = intent.kind === 'spawn' ? pools.uuids[slot]! : slotUuid(s, slot, options.maxInstances);
  const runId = options.runId;
  const twice = (call: Call, again: boolean): SequencedCall[] => {
    const op = call.op === 'simulateCrash' || call.op === 'simulateNoState' ? undefined : call.op;
    return again && op !== undefined && OPERATIONS[op].idempotent ? [call, { ...call, repeat: true }] : [call];
  };
  switch (intent.kind) {
    case 'spawn': {
      const volumes = [];
      for (const v of intent.volumes) {
        const volumeId = pools.volumes[v]!;
        if (model.volumeOwner(volumeId) !== undefined) continue;
        volumes.push({ volumeId, sizeGb: 1, deleteOnTermination: false, connectionInfo: await options.volumeConnection(volumeId) });
      }
      const networkInfo = intent.vifs
        .map((i) => pools.vifs[i]!)
        .filter((v) => model.interfaceOwner(v.id) === undefined)
        .map((v) => ({ id: v.id, address: v.address, network: { id: 'nova-conformance-net' } }));
      let variant = intent.variant;
      let flavor = intent.flavor;
      if (variant === 'oversized') {
        if (model.get(uuid) === undefined && model.neverFits(usageOf(OVERSIZED_FLAVOR))) flavor = OVERSIZED_FLAVOR;
        else variant = 'normal';
      }
      if (variant === 'unknownNode' && (!model.multiNode || model.get(uuid) !== undefined)) variant = 'normal';
      const spec = {
        uuid,
        name: `${runId}-${intent.name}`,
        flavor,
        image: pick(options.images, intent.image),
        metadata: withRunId(runId, intent.metadata),
        networkInfo,
        blockDeviceInfo: { ephemerals: [], volumes },
        powerOn: intent.powerOn,
        ...(variant === 'unknownNode' ? { node: 'nova-conformance-no-such-node' } : {}),
      };
      return [{ op: 'spawn', spec, ...(variant !== 'normal' ? { variant } : {}) }];
    }
    case 'simple':
      if (intent.op === 'powerOff') return twice({ op: 'powerOff', uuid, gracefulTimeoutMs: 0 }, intent.twice);
      return twice({ op: intent.op, uuid }, intent.twice);
    case 'observe':
      return [{ op: intent.op, uuid }];
    case 'reboot':
      return [{ op: 'reboot', uuid, type: intent.type }];
    case 'rescue':
      return twice({ op: 'rescue', uuid, spec: intent.image === undefined ? {} : { image: pick(options.images, intent.image) } }, intent.twice);
    case 'rebuild':
      return [
        {
          op: 'rebuild',
          uuid,
          spec: { image: pick(options.images, intent.image), ...(intent.metadata ? { metadata: withRunId(runId, intent.metadata) } : {}) },
        },
      ];
    case 'snapshot':
      return [{ op: 'snapshot', uuid, name: `${runId}-snap-${intent.name}` }];
    case 'deleteSnapshot': {
      const n = model.snapshots.length;
      const image = intent.which < 0 || n === 0 ? { id: `${runId}-no-such-image` } : { produced: intent.which % n };
      return twice({ op: 'deleteSnapshot', image }, intent.twice);
    }
    case 'attachVolume': {
      const volumeId = pools.volumes[intent.vol]!;
      const attachment = {
        volumeId,
        ...(intent.sizeGb !== undefined ? { sizeGb: intent.sizeGb } : {}),
        deleteOnTermination: false,
        connectionInfo: await options.volumeConnection(volumeId),
      };
      return [{ op: 'attachVolume', uuid, attachment }];
    }
    case 'detachVolume':
      return [{ op: 'detachVolume', uuid, volumeId: pools.volumes[intent.vol]! }];
    case 'extendVolume': {
      const volumeId = pools.volumes[intent.vol]!;
      const current = model.get(uuid)?.volumes.get(volumeId) ?? 1;
      return [{ op: 'extendVolume', uuid, volumeId, newSizeGb: current + intent.grow }];
    }
    case 'attachInterface': {
      const v = pools.vifs[intent.vif]!;
      return [{ op: 'attachInterface', uuid, vif: { id: v.id, address: v.address, network: { id: 'nova-conformance-net' } } }];
    }
    case 'detachInterface':
      return [{ op: 'detachInterface', uuid, vifId: pools.vifs[intent.vif]!.id }];
    case 'simulate':
      return [{ op: intent.which === 'crash' ? 'simulateCrash' : 'simulateNoState', uuid }];
  }
}

/** One line per intent for fast-check's listing of a failing sequence. */
export function describeIntent(intent: Intent): string {
  switch (intent.kind) {
    case 'spawn':
      return `spawn(slot ${intent.slot}${intent.variant !== 'normal' ? `, ${intent.variant}` : ''}${intent.powerOn ? '' : ', powerOn=false'}, volumes ${JSON.stringify(intent.volumes)}, vifs ${JSON.stringify(intent.vifs)})`;
    case 'simple':
      return `${intent.op}(slot ${intent.slot})${intent.twice ? ' x2' : ''}`;
    case 'observe':
      return `${intent.op}(slot ${intent.slot})`;
    case 'simulate':
      return `simulate ${intent.which}(slot ${intent.slot})`;
    case 'explore':
      return `explore(slot ${intent.slot}, ${intent.pick})`;
    case 'deleteSnapshot':
      return `deleteSnapshot(${intent.which})${intent.twice ? ' x2' : ''}`;
    default:
      return `${intent.kind}(slot ${intent.slot})`;
  }
}
