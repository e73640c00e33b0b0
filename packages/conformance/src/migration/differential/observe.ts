import { isDriverError, expectedUsage, FlavorSchema, type FlavorInput, type InstanceInfo, type InstanceSpecInput } from '@nova-common/core';
import { usedOf, type MigrationHosts } from '../hosts.js';
import type { HostName } from './intents.js';

/** Where an instance is: listed by (or, with witnesses, held by) host a, b, both, or none. */
export type Location = 'a' | 'b' | 'both' | 'none';

/**
 * getInfo of an instance, normalised so pairs whose specs differ compare: each part is
 * 'as spawned' when it is what the pair's spec gave, else what the driver answered. Node
 * names are left out.
 */
export interface NormalisedInfo {
  powerState: string;
  mode: string;
  name: string;
  metadata: 'as spawned' | Record<string, string>;
  volumes: 'as spawned' | string[];
  interfaces: 'as spawned' | string[];
}

/** What one pair did at one step. */
export interface PairOutcome {
  /** 'ok' or the error code. */
  result: string;
  /** What a successful prepareMigration answered: its kind, the flavor (by its place among the pair's flavors) and sameHost. */
  target?: { kind: string; flavor: string; sameHost: boolean };
  /** Every instance the sequence has named so far, by slot: where it is and getInfo on each host that lists it. */
  instances: Record<string, { at: Location; info?: Partial<Record<HostName, NormalisedInfo | string>> }>;
  /**
   * Each host's inventory `used` minus what it used when the sequence started, in units of
   * the pair's spec flavor per resource class (getInfo has no flavor: this is where a flavor,
   * a reservation or a resize shows).
   */
  usage: Record<HostName, Record<string, number>>;
}

const sortKeys = (m: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(m).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
const ids = (xs: readonly string[]): string[] => xs.map((x) => x.toLowerCase()).sort();
const same = (x: unknown, y: unknown): boolean => JSON.stringify(x) === JSON.stringify(y);

export function normaliseInfo(info: InstanceInfo, spec: InstanceSpecInput): NormalisedInfo {
  const metadata = sortKeys(info.metadata);
  const volumes = ids(info.volumes.map((v) => v.volumeId));
  const interfaces = ids(info.interfaces.map((i) => i.id));
  return {
    powerState: info.powerState,
    mode: info.mode,
    name: info.name === spec.name ? 'as spawned' : info.name,
    metadata: same(metadata, sortKeys(spec.metadata ?? {})) ? 'as spawned' : metadata,
    volumes: same(volumes, ids((spec.blockDeviceInfo?.volumes ?? []).map((v) => v.volumeId))) ? 'as spawned' : volumes,
    interfaces: same(interfaces, ids((spec.networkInfo ?? []).map((n) => n.id))) ? 'as spawned' : interfaces,
  };
}

export function errorCodeOf(error: unknown): string {
  return isDriverError(error) ? error.code : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Where `uuid` is on the pair's two hosts: their lists, and their backends' witnesses when given. */
export async function locate(hosts: MigrationHosts, uuids: readonly string[]): Promise<{ at: Location; on: HostName[] }[]> {
  const on: Record<HostName, Set<string>> = { a: new Set(), b: new Set() };
  for (const h of ['a', 'b'] as const) {
    for (const s of await hosts[h].listInstances()) on[h].add(s.uuid.toLowerCase());
    const witness = hosts.witnesses?.[h];
    if (witness !== undefined) for (const m of await witness.listMachines()) on[h].add(m.uuid.toLowerCase());
  }
  return uuids.map((u) => {
    const hs = (['a', 'b'] as const).filter((h) => on[h].has(u.toLowerCase()));
    return { at: hs.length === 2 ? 'both' : hs.length === 1 ? hs[0]! : 'none', on: hs };
  });
}

/** Each resource class's use by `flavor`. */
export function usageOf(flavor: FlavorInput): Record<string, number> {
  return expectedUsage(FlavorSchema.parse(flavor));
}

export async function usedNow(hosts: MigrationHosts): Promise<Record<HostName, Record<string, number>>> {
  return { a: usedOf(await hosts.a.getInventory()), b: usedOf(await hosts.b.getInventory()) };
}

/** `now - base` per class in units of `unit` (the pair's spec flavor), zeros left out. */
export function usageUnits(now: Record<string, number>, base: Record<string, number>, unit: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const cls of [...new Set([...Object.keys(now), ...Object.keys(base)])].sort()) {
    const d = (now[cls] ?? 0) - (base[cls] ?? 0);
    if (d === 0) continue;
    const u = unit[cls] ?? 0;
    out[cls] = u > 0 ? Math.round((d / u) * 1000) / 1000 : d;
  }
  return out;
}
