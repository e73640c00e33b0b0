import { CONTRACT_VERSION } from '@nova-common/core';
import type {
  BackendWitness,
  ComputeDriver,
  ConnectionInfo,
  GuardOptions,
  ImageMetaInput,
  InstanceSpecInput,
  ProfileId,
} from '@nova-common/core';
import type { PropertyId } from './properties/catalog.js';
import { checkBudget, type Budget } from './coverage/budget.js';

/** Creates an unconnected raw driver; the suite calls initHost/cleanupHost and wraps it in the guard. */
export type DriverFactory = () => ComputeDriver | Promise<ComputeDriver>;

/** The second host of the two-host migration properties (see ConformanceOptions.peer). */
export interface MigrationPeer {
  driver: DriverFactory | ComputeDriver;
  /** The driver kind both hosts give in migration requests: the manifest's name. */
  kind: string;
  witness?: BackendWitness;
}

/**
 * Hooks that make an instance do what only a guest or a backend can (crash, lose its power
 * state). Optional: with them the sequences also reach the CRASHED and NOSTATE rows of the
 * semantics table. The reference driver has them (simulateCrash / simulateNoState).
 */
export interface SimulationHooks {
  /** The guest crashed: the instance must report CRASHED afterwards. */
  crash?: (driver: ComputeDriver, uuid: string) => void | Promise<void>;
  /** The backend lost the power state: the instance must report NOSTATE afterwards. */
  noState?: (driver: ComputeDriver, uuid: string) => void | Promise<void>;
}

/** Options of a conformance run. Every field is optional. */
export interface ConformanceOptions {
  /** Generated command sequences per property (fast-check numRuns). Default 20. */
  runs?: number;
  /** Most commands per sequence. Default 25. */
  steps?: number;
  /** fast-check seed; default: random, always reported. */
  seed?: number;
  /** fast-check replay path (with `seed`) to re-run exactly one failing case and its shrink. */
  path?: string;
  /** Restrict generated commands to these profiles (core is always included). Default: all. */
  profiles?: ProfileId[];
  /** Live instances at once. Default 3. */
  maxInstances?: number;
  /**
   * Put in every instance's metadata as `nova-conformance:run-id`, and the prefix of every
   * instance and snapshot name, so `sweep` can remove what a crashed run left. Default: generated.
   */
  runId?: string;
  /**
   * Adapt a generated spec to what the backend has: a real local image id, a flavor carrying a
   * custom resource class, a node. Must keep uuid, name, metadata, powerOn, networkInfo ids and
   * volume ids (the model reads those from the generated spec).
   */
  adaptSpec?: (spec: InstanceSpecInput) => InstanceSpecInput;
  /** Connection info for a generated volume id. Default: a file path under /tmp/nova-conformance/<runId>/. */
  volumeConnection?: (volumeId: string) => ConnectionInfo | Promise<ConnectionInfo>;
  /** Images spawn, rebuild and rescue may use. Default: one generated qcow2 and one raw image meta. */
  images?: ImageMetaInput[];
  /** Extra slack for eventual checks beyond the driver's declared bounds, in ms. Default 25. */
  settleTimeoutMs?: number;
  /** How long a `hang` fault waits before the guard's timeout fires, in ms. Default 100. */
  hangTimeoutMs?: number;
  /**
   * How soon after the suite aborts a call's signal the driver must have let go of its work
   * (P-CANCEL, R-CANCEL), in ms. Default 5000: a driver waits out no backend step it could leave.
   */
  cancelGraceMs?: number;
  /** Options passed to the guard (enforceCapabilities is always false: the driver's own answers are tested). */
  guard?: Omit<GuardOptions, 'enforceCapabilities'>;
  /**
   * The contract range the driver's manifest declares (`manifest.contract`). The driver is held to
   * the contract of the lowest version in it (its baseline, R-BASELINE): that version's semantics
   * table, and capabilities added later read as missing. Default: the current contract.
   */
  contract?: string;
  /** See SimulationHooks. */
  simulate?: SimulationHooks;
  /**
   * An independent look at the backend (a driver's `conformanceFixtures(config).witness`): after
   * each sequence and after its teardown, what the backend holds for the run must be what the
   * driver reports: no leak, no ghost (P-BACKEND-WITNESS).
   */
  witness?: BackendWitness;
  /**
   * A second host of the same driver kind, for the two-host migration properties (P-MIGRATE-*):
   * its driver (a factory or an object; connected by the suite), the kind both give in
   * migration requests (the manifest's name), and optionally its backend's witness. Without it
   * those properties are skipped.
   */
  peer?: MigrationPeer;
  /**
   * P-RESTART: at the end of each sequence, stop the driver (cleanupHost), make a new one with
   * the factory, and check it reports the same instances in the same states. Needs a driver
   * factory. Default: on when a witness is given (a driver with a witness keeps its state on a
   * backend; without one the suite cannot tell a test double whose host is its own memory,
   * such as createReferenceDriver, from a driver that forgets).
   */
  restart?: boolean;
  /**
   * Which observations follow each command. `every-step` (default): getInfo of the instance,
   * listInstances and getInventory after every command. `changes`: getInfo after every
   * command, the list and inventory only after commands that change the instance set
   * (spawn, destroy) or while releases are pending, plus a full observation of every live
   * instance, the list and the inventory at the end of each sequence; faster, but a list or
   * inventory error that a later command undoes can go unseen.
   */
  observe?: 'every-step' | 'changes';
  /**
   * Run the table walk before the generated sequences (default true): a deterministic sequence
   * that reaches every state the driver can reach and calls every declared operation there, so
   * every cell of the semantics table is checked whatever the seed.
   */
  walk?: boolean;
  /**
   * Steering (see docs): after the configured sequences, while some reachable cell of the
   * semantics table has not been called, more rounds of sequences aimed at the missing cells
   * run until every reachable cell is reached or this budget is spent: model steps
   * (`'5000steps'`, `{ steps: 5000 }`) or wall time (`'60s'`, `'500ms'`, `{ ms: 60000 }`).
   * `'0steps'` turns the extra rounds off. Default: `runs x steps` model steps (as many as the
   * configured sequences may take).
   */
  budget?: string | Budget;
  /** Only these property ids (default: every applicable one). */
  only?: string[];
  /** Write each counterexample's replay file into this directory (Counterexample.replayFile). */
  replayDir?: string;
  /** Progress callback, called after each property. */
  onProgress?: (event: ProgressEvent) => void;
}

export interface ProgressEvent {
  property: PropertyId;
  status: 'started' | 'passed' | 'failed' | 'skipped';
  index: number;
  total: number;
  /** Sequences run so far in this property (for long runs). */
  runs?: number;
}

/** Identifies the driver under test in reports and in counterexample programs. */
export interface DriverIdentity {
  /** Package name or a label. */
  name?: string;
  version?: string;
  description?: string;
  /**
   * What this run is, beyond the driver: usually the backend and host ("QEMU/KVM on compute-12",
   * "podman 4.3"). Reported as `driver.label`; the support matrix heads the run's column with it,
   * so two runs of one driver on different backends read apart. 1-80 printable characters.
   */
  label?: string;
  /** The configuration the driver was created with (reported, and used by the replay program). */
  config?: unknown;
  /**
   * How the replay program creates the driver: `import { manifest } from '<module>'` and
   * `manifest.create(manifest.configSchema.parse(config))`. Without it the program imports
   * `createDriver` from './driver-under-test.js'.
   */
  module?: string;
  /** The export of `module` holding the manifest. Default `manifest`. */
  exportName?: string;
}

export interface RunOptions extends ConformanceOptions, DriverIdentity {
  /** The driver under test: a factory of unconnected raw drivers, or one raw driver. */
  driver: DriverFactory | ComputeDriver;
}

export interface ResolvedOptions {
  /** The contract version the driver is held to (see ConformanceOptions.contract). */
  contractBaseline: string;
  runs: number;
  steps: number;
  seed: number;
  path: string | undefined;
  profiles: ProfileId[] | 'all';
  maxInstances: number;
  runId: string;
  adaptSpec: (spec: InstanceSpecInput) => InstanceSpecInput;
  volumeConnection: (volumeId: string) => ConnectionInfo | Promise<ConnectionInfo>;
  /** Whether volumeConnection came from the caller (else the default file path is used). */
  volumeConnectionGiven: boolean;
  images: ImageMetaInput[];
  settleTimeoutMs: number;
  hangTimeoutMs: number;
  cancelGraceMs: number;
  guard: Omit<GuardOptions, 'enforceCapabilities'>;
  simulate: SimulationHooks;
  /** See ConformanceOptions.witness. */
  witness: BackendWitness | undefined;
  /** See ConformanceOptions.peer. */
  peer: MigrationPeer | undefined;
  /** Whether P-RESTART is asked for (it also needs a driver factory). */
  restart: boolean;
  only: string[] | undefined;
  observe: 'every-step' | 'changes';
  walk: boolean;
  /** The steering budget (see ConformanceOptions.budget). */
  budget: Budget;
  onProgress: ((event: ProgressEvent) => void) | undefined;
}

export const DEFAULT_RUNS = 20;
export const DEFAULT_STEPS = 25;
export const DEFAULT_MAX_INSTANCES = 3;
const DEFAULT_SETTLE_MS = 25;
const DEFAULT_HANG_TIMEOUT_MS = 100;
const DEFAULT_CANCEL_GRACE_MS = 5_000;

/** Metadata key carrying the run id on every instance the suite creates. */
export const RUN_ID_KEY = 'nova-conformance:run-id';

const DEFAULT_IMAGES: ImageMetaInput[] = [
  { id: 'nova-conformance-image-qcow2', name: 'nova-conformance qcow2', diskFormat: 'qcow2', containerFormat: 'bare', minDiskGb: 0, minRamMb: 0 },
  { id: 'nova-conformance-image-raw', name: 'nova-conformance raw', diskFormat: 'raw', containerFormat: 'bare', minDiskGb: 0, minRamMb: 0 },
];

function randomSeed(): number {
  return (Math.random() * 0x7fffffff) | 0;
}

/** A short, name-safe run id: `nc-<base36 time>-<random>`. */
export function newRunId(): string {
  return `nc-${Date.now().toString(36)}-${Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, '0')}`;
}

function positiveInt(name: string, value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${name} must be an integer between 1 and ${max}, got ${String(value)}`);
  }
  return value;
}

/** A run label: 1-80 characters, no control characters, not blank. Throws RangeError otherwise. */
export function checkLabel(label: string | undefined): string | undefined {
  if (label === undefined) return undefined;
  if (typeof label !== 'string' || label.trim() === '' || label.length > 80 || /\p{Cc}/u.test(label)) {
    throw new RangeError(`label must be 1-80 characters without control characters, got ${JSON.stringify(label)}`);
  }
  return label;
}

/** Apply defaults and check ranges. Throws RangeError on a bad option (the CLI maps it to exit code 2). */
/** The lowest version a contract range accepts: the contract the driver was built against. */
export function baselineOf(range: string | undefined): string {
  if (range === undefined) return CONTRACT_VERSION;
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(range);
  if (m === null) throw new RangeError(`contract must be a semver range such as ^1.0.0, got ${JSON.stringify(range)}`);
  return `${m[1]}.${m[2]}.${m[3]}`;
}

export function resolveOptions(options: ConformanceOptions = {}): ResolvedOptions {
  const runId = options.runId ?? newRunId();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(runId)) {
    throw new RangeError(`runId must be 1-64 characters of letters, digits, '.', '_' or '-', got ${JSON.stringify(runId)}`);
  }
  const seed = options.seed ?? randomSeed();
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${String(seed)}`);
  const images = options.images ?? DEFAULT_IMAGES;
  if (images.length === 0) throw new RangeError('images must not be empty');
  const runs = positiveInt('runs', options.runs, DEFAULT_RUNS, 1_000_000);
  const steps = positiveInt('steps', options.steps, DEFAULT_STEPS, 10_000);
  return {
    runs,
    steps,
    seed,
    path: options.path,
    profiles: options.profiles && options.profiles.length > 0 ? [...options.profiles] : 'all',
    maxInstances: positiveInt('maxInstances', options.maxInstances, DEFAULT_MAX_INSTANCES, 64),
    runId,
    adaptSpec: options.adaptSpec ?? ((spec) => spec),
    volumeConnection:
      options.volumeConnection ?? ((volumeId) => ({ driverVolumeType: 'file', path: `/tmp/nova-conformance/${runId}/${volumeId}.img` })),
    volumeConnectionGiven: options.volumeConnection !== undefined,
    images,
    settleTimeoutMs: options.settleTimeoutMs ?? DEFAULT_SETTLE_MS,
    hangTimeoutMs: positiveInt('hangTimeoutMs', options.hangTimeoutMs, DEFAULT_HANG_TIMEOUT_MS, 600_000),
    cancelGraceMs: positiveInt('cancelGraceMs', options.cancelGraceMs, DEFAULT_CANCEL_GRACE_MS, 600_000),
    guard: options.guard ?? {},
    contractBaseline: baselineOf(options.contract),
    simulate: options.simulate ?? {},
    witness: options.witness,
    peer: options.peer,
    restart: options.restart ?? options.witness !== undefined,
    only: options.only,
    observe: options.observe ?? 'every-step',
    walk: options.walk ?? true,
    budget: options.budget === undefined ? { steps: runs * steps } : checkBudget(options.budget),
    onProgress: options.onProgress,
  };
}
