import { CAPABILITY_CATALOG, MANDATORY_CAPABILITIES, SEMANTIC_STATES, TABLE_OPERATIONS, cellRuleId, type CapabilityId, type CellRuleId, type RuleId } from '@nova-common/core';

/**
 * The properties the suite checks. Ids are stable: a property is never renamed or
 * renumbered, and `since` is the contract version it was introduced in, so reports of
 * different suite versions compare. Each cites the rules (core RULES ids, or the semantics
 * table's per-cell ids R-<COLUMN>-<STATE>) it checks.
 */
export interface PropertyDefinition {
  id: PropertyId;
  title: string;
  since: string;
  rules: RuleId[];
  /** How the property is judged, in one paragraph (README and reports). */
  description: string;
}

export const MODEL_PROPERTY_IDS = [
  'P-MODEL-SEQUENCES',
  'P-IDEMPOTENT-REPEAT',
  'P-INFO-UNKNOWN',
  'P-LIST-OWNED',
  'P-INVENTORY',
  'P-EVENTS',
  'P-SPAWN-ATOMIC',
  'P-TEARDOWN-CLEAN',
] as const;
type ModelPropertyId = (typeof MODEL_PROPERTY_IDS)[number];

const FAULT_PROPERTY_IDS = ['P-SPAWN-ATOMIC-FAULT', 'P-ERRORS-SURFACE', 'P-CANCEL'] as const;

/** The property judged first, on what the driver says of its host (src/properties/host-description.ts). */
export const HOST_PROPERTY_ID = 'P-HOST-DESCRIPTION';
type HostPropertyId = typeof HOST_PROPERTY_ID;
type FaultPropertyId = (typeof FAULT_PROPERTY_IDS)[number];

/**
 * Properties judged with the model sequences that look beyond one driver object: a new driver
 * after a stop (src/properties/restart.ts), the backend's own view (src/properties/witness.ts).
 */
export const BACKEND_PROPERTY_IDS = ['P-RESTART', 'P-BACKEND-WITNESS'] as const;
type BackendPropertyId = (typeof BACKEND_PROPERTY_IDS)[number];

/** Every property the model sequences judge. */
export const SEQUENCE_PROPERTY_IDS: readonly PropertyId[] = [...MODEL_PROPERTY_IDS, ...BACKEND_PROPERTY_IDS];

/** Properties of concurrent calls (src/properties/concurrency.ts). */
export const CONCURRENCY_PROPERTY_IDS = ['P-CONCURRENT-INSTANCES', 'P-CONCURRENT-CALLS'] as const;
type ConcurrencyPropertyId = (typeof CONCURRENCY_PROPERTY_IDS)[number];

/** The two-host properties of the migration protocol (src/migration), since 1.2.0. */
export const MIGRATION_PROPERTY_IDS = ['P-MIGRATE-STATES', 'P-MIGRATE-REFUSALS', 'P-MIGRATE-ROUND-TRIP', 'P-MIGRATE-PROGRESS', 'P-MIGRATE-IN-PLACE', 'P-MIGRATE-EVACUATE'] as const;
export type MigrationPropertyId = (typeof MIGRATION_PROPERTY_IDS)[number];

/** The property checking that a capability declared missing raises UNSUPPORTED and changes nothing. */
type UnsupportedPropertyId = `P-UNSUPPORTED-${CapabilityId}`;

/** The id of every property the suite has. */
export type PropertyId = HostPropertyId | ModelPropertyId | BackendPropertyId | FaultPropertyId | ConcurrencyPropertyId | MigrationPropertyId | UnsupportedPropertyId;

/** Every cell of the semantics table: the rules a generated sequence checks call by call. */
const CELL_RULES: CellRuleId[] = TABLE_OPERATIONS.flatMap((column) => SEMANTIC_STATES.map((state) => cellRuleId(column, state)));

const host: PropertyDefinition = {
  id: HOST_PROPERTY_ID,
  title: 'The driver describes its host validly',
  since: '1.0.0',
  rules: ['R-GEN-OUTPUT', 'R-GEN-ERRORS'],
  description:
    'Judged first: initHost answers, and the capability declaration, the instance list, the inventory and the nodes are what the contract\'s schemas allow (the guard checks them). When they are not, the run reports this property failed with the fields at fault, and the properties that start from them as not run, rather than breaking.',
};

const fixed: Record<ModelPropertyId | FaultPropertyId, PropertyDefinition> = {
  'P-MODEL-SEQUENCES': {
    id: 'P-MODEL-SEQUENCES',
    title: 'Generated command sequences follow the semantics table',
    since: '1.0.0',
    rules: [...CELL_RULES, 'R-GEN-ERRORS', 'R-GEN-ORDER', 'R-INFO-FRESH', 'R-SPAWN-METADATA', 'R-SPAWN-DEVICES', 'R-DEV-VOLUME-ATTACHED', 'R-DEV-VOLUME-NOT-ATTACHED', 'R-DEV-INTERFACE-ATTACHED', 'R-DEV-INTERFACE-NOT-ATTACHED', 'R-REBUILD-KEEPS', 'R-SNAPSHOT-DELETE', 'R-CONSOLE-TEXT', 'R-DESTROY-IDEMPOTENT'],
    description:
      'fast-check generates sequences of every declared operation on valid inputs; each call must return what expectedOutcome() predicts (success, or exactly the error code), and getInfo afterwards must report the model\'s power state, mode, name, metadata, volumes and interfaces.',
  },
  'P-IDEMPOTENT-REPEAT': {
    id: 'P-IDEMPOTENT-REPEAT',
    title: 'Repeating an idempotent call yields the same result and changes nothing',
    since: '1.0.0',
    rules: ['R-GEN-NOOP', 'R-DESTROY-IDEMPOTENT'],
    description: 'Idempotent operations (OPERATIONS[op].idempotent) are sometimes issued twice in a row; the second call must give the outcome the table predicts for the new state (a no-op success for ensure operations) and leave the state as it was.',
  },
  'P-INFO-UNKNOWN': {
    id: 'P-INFO-UNKNOWN',
    title: 'getInfo of an unknown or destroyed instance raises INSTANCE_NOT_FOUND',
    since: '1.0.0',
    rules: ['R-INFO-UNKNOWN'],
    description: 'getInfo of a uuid never spawned, or destroyed, must reject with INSTANCE_NOT_FOUND, never report NOSTATE or stale data.',
  },
  'P-LIST-OWNED': {
    id: 'P-LIST-OWNED',
    title: 'listInstances reports exactly the instances the driver created',
    since: '1.0.0',
    rules: ['R-LIST-OWNED', 'R-SPAWN-METADATA', 'R-DESTROY-OWNED'],
    description: 'After every command the set of listed uuids must equal the instances present before the run plus the live instances of the model, with their names and metadata; instances present before the run are never touched.',
  },
  'P-INVENTORY': {
    id: 'P-INVENTORY',
    title: 'Inventory usage follows the instances, with eventual release',
    since: '1.0.0',
    rules: ['R-INV-USED', 'R-INV-RELEASE', 'R-NODE-AVAILABLE'],
    description: 'Summed over nodes, `used` of each resource class must equal the baseline plus expectedUsage(flavor) of live instances; a destroyed instance may still count until eventualConsistency.resourceReleaseMs (+ settle) has passed, and its node must take a new instance after nodeAvailableMs.',
  },
  'P-EVENTS': {
    id: 'P-EVENTS',
    title: 'Power transitions are followed by lifecycle events',
    since: '1.0.0',
    rules: ['R-EVENT-TRANSITION'],
    description: 'When event.lifecycle is declared, every call that changes an existing instance\'s power state must be followed within eventDeliveryMs (+ settle) by an event for that uuid with a kind eventKindsFor(to) lists and the new power state; events never name an instance the driver does not manage.',
  },
  'P-SPAWN-ATOMIC': {
    id: 'P-SPAWN-ATOMIC',
    title: 'A spawn that fails leaves nothing behind',
    since: '1.0.0',
    rules: ['R-SPAWN-ATOMIC', 'R-SPAWN-PLACEMENT', 'R-SPAWN-NODE-UNKNOWN', 'R-SPAWN-VIF-TYPE'],
    description: 'Spawns that must fail (a flavor no node holds: INSUFFICIENT_RESOURCES; an unknown node: NODE_NOT_FOUND; an existing uuid: INSTANCE_EXISTS; a VIF of a type the declared vifTypes leave out: INVALID_INPUT naming its type) must fail with that code and leave the instance list, the inventory and any existing instance exactly as they were.',
  },
  'P-TEARDOWN-CLEAN': {
    id: 'P-TEARDOWN-CLEAN',
    title: 'Nothing the run created is left behind',
    since: '1.0.0',
    rules: ['R-DESTROY-IDEMPOTENT', 'R-LIST-OWNED', 'R-INV-RELEASE', 'R-NODE-AVAILABLE', 'R-SNAPSHOT-DELETE'],
    description: 'At the end of every sequence the suite destroys what it created and deletes its snapshots; then, after the declared release bounds, nothing carrying the run id may be listed, inventory must be back to its baseline and every node available before must be available again.',
  },
  'P-SPAWN-ATOMIC-FAULT': {
    id: 'P-SPAWN-ATOMIC-FAULT',
    title: 'A spawn failing with a backend fault leaves nothing half made',
    since: '1.0.0',
    rules: ['R-SPAWN-ATOMIC', 'R-GEN-ERRORS'],
    description: 'faulty() makes spawn fail (BACKEND_UNAVAILABLE, TIMEOUT, or hang until the guard times out) before or after the driver ran; the error must surface with its code, and the instance must then be either absent or complete (never half made), and gone after destroy.',
  },
  'P-ERRORS-SURFACE': {
    id: 'P-ERRORS-SURFACE',
    title: 'Backend faults surface with the right code and a retry converges',
    since: '1.0.0',
    rules: ['R-GEN-ERRORS', 'R-GEN-NOOP'],
    description: 'faulty() injects BACKEND_UNAVAILABLE, TIMEOUT and hangs into instance operations; the guarded call must reject with exactly that code (TIMEOUT for a hang), and retrying the idempotent operation must reach the state the table predicts.',
  },
  'P-CANCEL': {
    id: 'P-CANCEL',
    title: 'A cancelled call lets go promptly and leaves the instance before or after it, never between',
    since: '1.1.0',
    rules: ['R-CANCEL', 'R-DESTROY-IDEMPOTENT', 'R-GEN-NOOP'],
    description:
      'The suite aborts the signal of a spawn, a powerOff with a graceful period of twice cancelGraceMs (at least 5 s) and a destroy, at once and a few ms into each call. Each must reject with CANCELLED or answer as it would have; the next call on the instance (which the guard holds until the driver\'s cancelled work returns) must be served within cancelGraceMs of the abort; the instance must then be as before the call or as after it (a cancelled spawn leaves nothing or the whole instance), and retrying the call must converge.',
  },
};

const backend: Record<BackendPropertyId, PropertyDefinition> = {
  'P-RESTART': {
    id: 'P-RESTART',
    title: 'A new driver object sees the instances the previous one left, in their states',
    since: '1.0.0',
    rules: ['R-RESTART-SAME', 'R-LIST-OWNED', 'R-INFO-FRESH'],
    description:
      'At the end of each sequence the driver is stopped (cleanupHost) and a new one is made with the factory and connected (initHost); it must list exactly the instances the previous one listed, getInfo must report each in the same power state, mode, name, metadata and devices, and the teardown then destroys them through it. Runs with a driver factory when a witness is given or `restart: true`.',
  },
  'P-BACKEND-WITNESS': {
    id: 'P-BACKEND-WITNESS',
    title: 'The backend holds exactly what the driver reports: no leak, no ghost',
    since: '1.0.0',
    rules: ['R-BACKEND-LEAK', 'R-BACKEND-GHOST', 'R-SPAWN-ATOMIC'],
    description:
      'With a witness (an independent look at the backend, from the driver\'s conformance fixtures), after each sequence every instance of the run the driver lists must be on the backend (no ghost) and every machine of the run on the backend must be listed or destroyed less than the declared release bounds ago (no leak); after the teardown, once the release bounds have passed, nothing of the run may remain there.',
  },
};

const concurrency: Record<ConcurrencyPropertyId, PropertyDefinition> = {
  'P-CONCURRENT-INSTANCES': {
    id: 'P-CONCURRENT-INSTANCES',
    title: 'Concurrent calls on different instances are independent',
    since: '1.0.0',
    rules: [...CELL_RULES, 'R-INFO-FRESH', 'R-LIST-OWNED', 'R-INV-USED', 'R-SPAWN-PLACEMENT'],
    description:
      'Two or three instances are acted on at the same time (one lane of one or two calls per instance, the lanes submitted together): the same operation on each, a destroy and a spawn beside a hard reboot, and a few cases drawn from the seed. Each call\'s outcome (success or its exact error code) and what getInfo, listInstances and the inventory report afterwards must be those of some order of the calls run one at a time through the model, so each instance ends where its own calls lead it.',
  },
  'P-CONCURRENT-CALLS': {
    id: 'P-CONCURRENT-CALLS',
    title: 'Concurrent calls on one instance are linearizable',
    since: '1.0.0',
    rules: [...CELL_RULES, 'R-DEV-VOLUME-ATTACHED', 'R-DEV-VOLUME-NOT-ATTACHED', 'R-INFO-FRESH', 'R-LIST-OWNED', 'R-INV-USED', 'R-DESTROY-IDEMPOTENT'],
    description:
      'Two or three calls on one instance are submitted together: two spawns of one uuid (one succeeds, the other gets INSTANCE_EXISTS; never two instances), destroy racing spawn of one uuid, detach racing attach of one volume, and a few cases drawn from the seed. The outcomes and the state left must be those of some order of the calls run one at a time through the model (every order is enumerated).',
  },
};

const TWO_HOSTS =
  'It runs with a second host of the same driver kind (RunOptions.peer, `--peer-config`): instances are spawned on the driver under test (A) and moved to the peer (B) and back; after every step both hosts\' lists, and the backends\' witnesses when given, must hold the instance on exactly one host.';

const migration: Record<MigrationPropertyId, PropertyDefinition> = {
  'P-MIGRATE-STATES': {
    id: 'P-MIGRATE-STATES',
    title: 'Every declared kind of migration from every reachable state follows the migration table',
    since: '1.2.0',
    rules: ['R-MIGRATE-ONE-HOST', 'R-MIGRATE-KEEPS', 'R-MIGRATE-ROLLBACK', 'R-MIGRATE-RESERVE', 'R-MIGRATE-IDEMPOTENT', 'R-MIGRATE-ABORT'],
    description: `For each kind declared (COLD; LIVE with operation.live-migrate) and each state the driver can reach (RUNNING, SHUTDOWN, PAUSED, SUSPENDED, RESCUE): prepare on B (the reservation shows in B's inventory; a repeated prepare answers the same target), migrate from A, and the migration table's outcome: the instance arrives in its state with its name, metadata, volumes and interfaces, the target flavor counts on B and A released it, finish twice, abort refused; or the exact error, the instance untouched on A, and abort releases B. ${TWO_HOSTS}`,
  },
  'P-MIGRATE-REFUSALS': {
    id: 'P-MIGRATE-REFUSALS',
    title: 'Bad migration requests and targets are refused with typed errors before anything moves',
    since: '1.2.0',
    rules: ['R-MIGRATE-KIND', 'R-MIGRATE-ROOM', 'R-MIGRATE-EXISTS', 'R-MIGRATE-SELF', 'R-MIGRATE-LIVE-FLAVOR', 'R-MIGRATE-FINISH', 'R-MIGRATE-ABORT', 'R-MIGRATE-ONE-HOST'],
    description: `A source of another kind (INVALID_INPUT at request.sourceDriver), a flavor no node holds (INSUFFICIENT_RESOURCES), a host that has the instance (INSTANCE_EXISTS), a live migration that resizes (INVALID_INPUT at request.flavor), finish of an unknown or undelivered migration (INSTANCE_NOT_FOUND), a target of another kind or instance (INVALID_INPUT at target.driver / target.instanceUuid), migrate called on the destination itself (INVALID_INPUT at target.sameHost), and with operation.evacuate a migrate onto a host that spawned the instance after the prepare (INSTANCE_EXISTS, both copies stay): each refused, nothing moved and nothing held afterwards. ${TWO_HOSTS}`,
  },
  'P-MIGRATE-ROUND-TRIP': {
    id: 'P-MIGRATE-ROUND-TRIP',
    title: 'An instance resized onto the other host comes back with its first flavor',
    since: '1.2.0',
    rules: ['R-MIGRATE-ONE-HOST', 'R-MIGRATE-KEEPS', 'R-MIGRATE-ABORT', 'R-CANCEL'],
    description: `A running instance goes cold to B with a bigger flavor and comes back cold with its first flavor (with LIVE declared, after a live migration whose signal was aborted: it must be on exactly one host either way), checked as P-MIGRATE-STATES checks each move. ${TWO_HOSTS}`,
  },
  'P-MIGRATE-PROGRESS': {
    id: 'P-MIGRATE-PROGRESS',
    title: 'The source reports where a running migration stands, without waiting for it',
    since: '1.2.0',
    rules: ['R-MIGRATE-PROGRESS'],
    description: `Before a move the source reads phase NONE and the destination INSTANCE_NOT_FOUND; while migrate runs (LIVE when declared, else COLD) the source is read every 25 ms: each reading names the migration and its kind, the phases only move forward (COPYING, SWITCHING, CLEANING, then the instance is gone), the data processed never decreases, and a migrate that runs over a second lets at least one read answer before it ends; after the move the source reads INSTANCE_NOT_FOUND and the destination NONE. ${TWO_HOSTS}`,
  },
  'P-MIGRATE-IN-PLACE': {
    id: 'P-MIGRATE-IN-PLACE',
    title: 'A resize in place changes the flavor and nothing else',
    since: '1.2.0',
    rules: ['R-MIGRATE-IN-PLACE', 'R-MIGRATE-ONE-HOST'],
    description: `With operation.resize-in-place: prepare with sameHost on A, migrate, finish; the instance stays on A unchanged but for its flavor, whose difference shows in A's inventory. ${TWO_HOSTS}`,
  },
  'P-MIGRATE-EVACUATE': {
    id: 'P-MIGRATE-EVACUATE',
    title: 'An instance evacuated to another host survives the destroy of its stale copy',
    since: '1.2.0',
    rules: ['R-EVACUATE', 'R-DESTROY-OWNED'],
    description: `With operation.evacuate: the instance on A (its host deemed dead) is spawned, same uuid, spec and volumes, on B; A's driver then destroys its copy; B still reports the instance unchanged, A nothing. ${TWO_HOSTS}`,
  },
};

export function unsupportedPropertyId(capability: CapabilityId): UnsupportedPropertyId {
  return `P-UNSUPPORTED-${capability}`;
}

/** The P-UNSUPPORTED-<capability> property of a non-mandatory capability. */
function unsupportedProperty(capability: CapabilityId): PropertyDefinition {
  return {
    id: unsupportedPropertyId(capability),
    title: `${CAPABILITY_CATALOG[capability].title}: declared missing, raises UNSUPPORTED and changes nothing`,
    since: CAPABILITY_CATALOG[capability].since,
    rules: ['R-GEN-UNSUPPORTED', 'R-GEN-ORDER'],
    description: `Every operation of ${capability}, called on an existing instance and on an unknown uuid, must reject with UNSUPPORTED and leave getInfo, the instance list and the inventory unchanged.`,
  };
}

/** Every property the suite can run, in report order. */
export function allProperties(): PropertyDefinition[] {
  const optional = (Object.keys(CAPABILITY_CATALOG) as CapabilityId[]).filter((id) => !MANDATORY_CAPABILITIES.includes(id));
  return [host, ...MODEL_PROPERTY_IDS.map((id) => fixed[id]), ...BACKEND_PROPERTY_IDS.map((id) => backend[id]), ...FAULT_PROPERTY_IDS.map((id) => fixed[id]), ...CONCURRENCY_PROPERTY_IDS.map((id) => concurrency[id]), ...MIGRATION_PROPERTY_IDS.map((id) => migration[id]), ...optional.map(unsupportedProperty)];
}

export function propertyDefinition(id: string): PropertyDefinition | undefined {
  if (id === HOST_PROPERTY_ID) return host;
  if (Object.prototype.hasOwnProperty.call(fixed, id)) return fixed[id as ModelPropertyId];
  if (Object.prototype.hasOwnProperty.call(migration, id)) return migration[id as MigrationPropertyId];
  if (Object.prototype.hasOwnProperty.call(backend, id)) return backend[id as BackendPropertyId];
  if (Object.prototype.hasOwnProperty.call(concurrency, id)) return concurrency[id as ConcurrencyPropertyId];
  const m = /^P-UNSUPPORTED-(.+)$/.exec(id);
  if (m && m[1]! in CAPABILITY_CATALOG) return unsupportedProperty(m[1] as CapabilityId);
  return undefined;
}

/** Properties whose failures are observations only: disabling them keeps the model in step with the driver. */
export const OBSERVATION_PROPERTIES: ReadonlySet<PropertyId> = new Set<PropertyId>([
  'P-INFO-UNKNOWN',
  'P-LIST-OWNED',
  'P-INVENTORY',
  'P-EVENTS',
  'P-SPAWN-ATOMIC',
  'P-TEARDOWN-CLEAN',
  'P-RESTART',
  'P-BACKEND-WITNESS',
]);

/**
 * The rules a property cites, for a test name or a heading: the general rules by id, the
 * table's cells counted (P-MODEL-SEQUENCES checks all of them).
 */
export function citedRules(rules: readonly RuleId[]): string {
  const isCell = (r: RuleId): boolean => (CELL_RULES as readonly RuleId[]).includes(r);
  const cells = rules.filter(isCell);
  const general = rules.filter((r) => !isCell(r));
  if (cells.length <= 3) return rules.join(', ');
  return [`${cells.length} table cells R-<COLUMN>-<STATE>`, ...general].join(', ');
}
