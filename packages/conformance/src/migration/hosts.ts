import {
  expectedUsage,
  FlavorSchema,
  isDriverError,
  type BackendWitness,
  type DriverError,
  type ErrorCode,
  type FlavorInput,
  type GuardedDriver,
  type HostInventory,
  type InstanceInfo,
  type InstanceSpecInput,
} from '@nova-common/core';

/**
 * Two hosts of one driver kind, as the migration suite sees them: the drivers (guarded), the
 * kind they give in requests, what makes a valid spec for them, and optionally each backend's
 * own view (a witness), which catches what a driver's list would hide.
 */
export interface MigrationHosts {
  /** Host A: where every instance of the suite is spawned. */
  readonly a: GuardedDriver;
  /** Host B: the destination of the first move. */
  readonly b: GuardedDriver;
  /** The driver kind both give in requests and targets (the manifest's name). */
  readonly kind: string;
  /** A spawnable spec of `uuid` for these drivers (image, devices, metadata). */
  spec(uuid: string, salt: number): InstanceSpecInput;
  /** A flavor other than the spec's that both hosts can hold: the resize the suite asks for. */
  resizeTo(flavor: FlavorInput): FlavorInput;
  /** A flavor no node of either host can hold. */
  readonly oversized: FlavorInput;
  readonly witnesses?: { readonly a?: BackendWitness; readonly b?: BackendWitness };
}

/** The resize the suite asks for by default: the same flavor with twice the memory, under its own id. */
export function doubledMemory(f: FlavorInput): FlavorInput {
  return { ...f, id: `${f.id}-resized`, name: `${f.name}-resized`, memoryMb: f.memoryMb * 2 };
}

/** A check that did not hold: the rule it states and what was seen. */
export class MigrationViolation extends Error {
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super(`${rule}: ${message}`);
  }
}

export type HostName = 'a' | 'b';

/** Where an instance is: the hosts whose driver lists it, and whose backend holds it. */
export async function whereIs(hosts: MigrationHosts, uuid: string): Promise<{ listed: HostName[]; held: HostName[] }> {
  const key = uuid.toLowerCase();
  const listed: HostName[] = [];
  const held: HostName[] = [];
  for (const name of ['a', 'b'] as const) {
    const list = await hosts[name].listInstances();
    if (list.some((s) => s.uuid.toLowerCase() === key)) listed.push(name);
    const witness = hosts.witnesses?.[name];
    if (witness !== undefined && (await witness.listMachines()).some((m) => m.uuid.toLowerCase() === key)) held.push(name);
  }
  return { listed, held };
}

/** R-MIGRATE-ONE-HOST: listed by exactly `expected`, and (with witnesses) held by no other backend. */
export async function expectOn(hosts: MigrationHosts, uuid: string, expected: HostName, when: string): Promise<void> {
  const { listed, held } = await whereIs(hosts, uuid);
  if (listed.length !== 1 || listed[0] !== expected) {
    throw new MigrationViolation('R-MIGRATE-ONE-HOST', `${when}: the instance is listed by [${listed.join(', ')}], expected by ${expected} alone`);
  }
  const stray = held.filter((h) => h !== expected);
  if (stray.length > 0) throw new MigrationViolation('R-MIGRATE-ONE-HOST', `${when}: the backend of ${stray.join(', ')} still holds the instance`);
}

/** The call must reject with `code` (and, for INVALID_INPUT, name `path`). */
export async function expectError(what: string, rule: string, code: ErrorCode, call: () => Promise<unknown>, path?: readonly (string | number)[]): Promise<DriverError> {
  let error: unknown;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new MigrationViolation(rule, `${what} succeeded; expected ${code}`);
  if (!isDriverError(error)) throw new MigrationViolation(rule, `${what} threw ${String(error)}; expected ${code}`);
  if (error.code !== code) throw new MigrationViolation(rule, `${what} raised ${error.code} (${error.message}); expected ${code}`);
  if (path !== undefined) {
    const want = path.join('.');
    if (!(error.issues ?? []).some((i) => i.path.join('.') === want)) {
      throw new MigrationViolation(rule, `${what} raised INVALID_INPUT without naming ${want}: ${JSON.stringify(error.issues ?? [])}`);
    }
  }
  return error;
}

/** The parts of an instance a migration must keep (R-MIGRATE-KEEPS): everything getInfo says but the node. */
export function kept(info: InstanceInfo): string {
  const { node: _node, ...rest } = info;
  return JSON.stringify(rest);
}

/** Each resource class's `used`, summed over nodes. */
export function usedOf(inventory: HostInventory): Record<string, number> {
  const used: Record<string, number> = {};
  for (const node of inventory.nodes) for (const [cls, r] of Object.entries(node.resources)) used[cls] = (used[cls] ?? 0) + r.used;
  return used;
}

/** `after - before` per class, leaving out zeros. */
export function usageDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const cls of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const d = (after[cls] ?? 0) - (before[cls] ?? 0);
    if (d !== 0) out[cls] = d;
  }
  return out;
}

/** What a flavor adds to `used` (expectedUsage), leaving out zeros. */
export function usageOfFlavor(flavor: FlavorInput): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [cls, n] of Object.entries(expectedUsage(FlavorSchema.parse(flavor)))) if (n !== 0) out[cls] = n;
  return out;
}

export const sameUsage = (x: Record<string, number>, y: Record<string, number>): boolean => JSON.stringify(Object.entries(x).sort()) === JSON.stringify(Object.entries(y).sort());
