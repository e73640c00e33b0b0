import { eventKindsFor, powerStateOf, type PowerState, type SemanticState } from '@nova-common/core';
import type { StepRecord } from '../result.js';

/**
 * What a counterexample program can assert at its end, derived from its steps' expectations
 * alone: the instances alive after the last step with the name, metadata, devices and flavor
 * the model gives them, and the lifecycle events the transitions owe. The program checks the
 * driver against these, so it fails while the bug is there (not only prints what it sees).
 */
export interface ProgramExpectations {
  /** False when a step carries no expectation (a differential trace): nothing is derived. */
  complete: boolean;
  /** Every uuid a spawn step named, in order (the program destroys them all at the end). */
  spawned: string[];
  live: LiveInstance[];
  events: { uuid: string; powerState: PowerState; kinds: readonly string[] }[];
  /** True when an instance was destroyed: its resources may take eventualConsistency.resourceReleaseMs to come back. */
  destroyed: boolean;
}

export interface LiveInstance {
  uuid: string;
  state: Exclude<SemanticState, 'ABSENT'>;
  name: string;
  metadata: Record<string, string>;
  flavor: unknown;
  /** Attached volume ids (lower-cased), with the size the model knows (undefined: not checked). */
  volumes: Map<string, number | undefined>;
  interfaces: Set<string>;
}

const SIMULATIONS = new Set(['simulateCrash', 'simulateNoState']);
const lower = (s: string): string => s.toLowerCase();

interface SpawnSpec {
  uuid: string;
  name: string;
  metadata?: Record<string, string>;
  flavor: unknown;
  networkInfo?: { id: string }[];
  blockDeviceInfo?: { volumes?: { volumeId: string; sizeGb?: number }[] };
}

export function deriveExpectations(steps: readonly StepRecord[]): ProgramExpectations {
  const out: ProgramExpectations = { complete: true, spawned: [], live: [], events: [], destroyed: false };
  const live = new Map<string, LiveInstance>();
  for (const step of steps) {
    const exp = step.expected;
    if (step.op === 'spawn') out.spawned.push(lower((step.args[0] as SpawnSpec).uuid));
    if (exp === undefined) {
      if (!SIMULATIONS.has(step.op)) out.complete = false;
      continue;
    }
    if (!exp.ok) continue;
    const to = typeof exp.detail === 'string' ? (exp.detail as SemanticState) : undefined;
    if (step.op === 'spawn') {
      const spec = step.args[0] as SpawnSpec;
      if (to === undefined || to === 'ABSENT') continue;
      live.set(lower(spec.uuid), {
        uuid: lower(spec.uuid),
        state: to,
        name: spec.name,
        metadata: { ...(spec.metadata ?? {}) },
        flavor: spec.flavor,
        volumes: new Map((spec.blockDeviceInfo?.volumes ?? []).map((v) => [lower(v.volumeId), v.sizeGb])),
        interfaces: new Set((spec.networkInfo ?? []).map((v) => lower(v.id))),
      });
      continue;
    }
    const target = typeof step.args[0] === 'string' ? lower(step.args[0]) : undefined;
    const inst = target === undefined ? undefined : live.get(target);
    if (inst === undefined || target === undefined) continue;
    if (to === 'ABSENT') {
      live.delete(target);
      out.destroyed = true;
      continue;
    }
    applyDevices(inst, step);
    if (to === undefined) continue;
    // A power change of an existing instance owes an event (Model.withEvent).
    const kinds = eventKindsFor(to);
    if (powerStateOf(inst.state) !== powerStateOf(to) && kinds.length > 0) out.events.push({ uuid: target, powerState: powerStateOf(to), kinds });
    inst.state = to;
  }
  out.live = [...live.values()];
  return out;
}

/** A successful call's change to the devices and metadata (the model's effects, for what getInfo shows). */
function applyDevices(inst: LiveInstance, step: StepRecord): void {
  const [, a, b] = step.args;
  switch (step.op) {
    case 'rebuild': {
      const metadata = (a as { metadata?: Record<string, string> } | undefined)?.metadata;
      if (metadata !== undefined) inst.metadata = { ...metadata };
      return;
    }
    case 'attachVolume': {
      const v = a as { volumeId: string; sizeGb?: number };
      inst.volumes.set(lower(v.volumeId), v.sizeGb);
      return;
    }
    case 'detachVolume':
      inst.volumes.delete(lower(String(a)));
      return;
    case 'extendVolume':
      if (inst.volumes.has(lower(String(a)))) inst.volumes.set(lower(String(a)), Number(b));
      return;
    case 'attachInterface':
      inst.interfaces.add(lower((a as { id: string }).id));
      return;
    case 'detachInterface':
      inst.interfaces.delete(lower(String(a)));
      return;
    default:
      return;
  }
}
