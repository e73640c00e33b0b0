/**
 * Lifecycle events, and whether a transition was asked for.
 *
 * Ironic pushes nothing to us (its power notifications go to Nova's API), so the driver reports
 * what it sees: the transitions its own operations complete (before the operation resolves,
 * cause `requested`), and the changes it finds when it looks at a node it is not acting on
 * (cause `out-of-band`): at the start of every operation on the instance (the node as the
 * operation finds it) and in the out-of-band poller's list calls (`out-of-band.ts`).
 *
 * How it tells the two apart: it remembers, per instance, the power state it last reported or
 * saw. A change this process's own call made is recorded when the call completes; any other
 * difference between what it remembers and what Ironic shows is out-of-band. The driver cannot
 * tell an operator's API call from another process of the same host acting on the node: both are
 * out-of-band here. A look that was under way while a call of ours ran on the instance (or while
 * another look saw it) is ignored, since it may show a state older than the one remembered.
 *
 * Events follow the reference driver: one per change of the power state, STARTED (to RUNNING),
 * STOPPED (to SHUTDOWN), CRASHED (to CRASHED); none when Ironic merely loses the power state
 * (to NOSTATE). The listeners are core's ListenerSet.
 */
import {
  ListenerSet,
  errors,
  type EventCause,
  type LifecycleEvent,
  type LifecycleEventKind,
  type LifecycleListener,
  type PowerState,
  type SemanticState,
  type Unsubscribe,
} from '@nova-common/core';
import type { IronicNode } from '../client/types.js';
import { powerStateOfNode } from '../mapping/state.js';

/** The event kind of a change of power state, or undefined when it deserves none. */
export function eventKindOf(before: PowerState | undefined, after: PowerState): LifecycleEventKind | undefined {
  if (before === after) return undefined;
  switch (after) {
    case 'RUNNING':
      return 'STARTED';
    case 'SHUTDOWN':
      return 'STOPPED';
    case 'CRASHED':
      return 'CRASHED';
    default:
      return undefined;
  }
}

const powerOfSemantic = (s: SemanticState): PowerState | undefined => (s === 'ABSENT' ? undefined : s === 'RESCUE' ? 'RUNNING' : s);

interface Tracked {
  /** The power state last reported or seen; undefined: unknown, the next look records it silently. */
  power: PowerState | undefined;
  /** Calls of this process acting on the instance right now. */
  busy: number;
  /** Bumped by every call start and end and every recorded look: a look older than this is stale. */
  epoch: number;
}

export class IronicEvents {
  private readonly listeners = new ListenerSet<LifecycleEvent>();
  private readonly tracked = new Map<string, Tracked>();
  /** Told when the number of listeners changes (the out-of-band poller runs while there are some). */
  onListeners: (count: number) => void = () => undefined;

  constructor(
    /** config.events: false declares event.lifecycle missing. */
    readonly enabled: boolean,
  ) {}

  subscribe(listener: LifecycleListener): Unsubscribe {
    if (!this.enabled) throw errors.unsupported('event.lifecycle', 'subscribeEvents');
    const off = this.listeners.add(listener);
    this.onListeners(this.listeners.size);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      off();
      this.onListeners(this.listeners.size);
    };
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  // ---- calls of this process ------------------------------------------------------------

  /** A call of ours starts acting on the instance. */
  begin(uuid: string): void {
    const t = this.entry(uuid);
    t.busy++;
    t.epoch++;
  }

  /** The call ended; when it failed, what it left is unknown: the next look records it silently. */
  end(uuid: string, ok: boolean): void {
    const t = this.tracked.get(uuid);
    if (!t) return;
    t.busy = Math.max(0, t.busy - 1);
    t.epoch++;
    if (!ok) t.power = undefined;
    // Nothing known and nobody acting (an unknown uuid, a failed call): nothing worth keeping.
    if (t.busy === 0 && t.power === undefined) this.tracked.delete(uuid);
  }

  /** Our spawn made the instance: STARTED when it runs. */
  afterSpawn(uuid: string, node: IronicNode): void {
    const t = this.entry(uuid);
    t.power = powerStateOfNode(node);
    t.epoch++;
    if (t.power === 'RUNNING') this.emit(uuid, 'STARTED', 'RUNNING', node.uuid, 'requested');
  }

  /** A call of ours moved the instance from `before` to the state the node `after` shows. */
  afterTransition(uuid: string, before: SemanticState, after: IronicNode): void {
    this.record(uuid, powerOfSemantic(before), after, 'requested');
  }

  /** Our destroy removed an instance that was in `before`. */
  afterDestroy(uuid: string, before: SemanticState, node: IronicNode): void {
    const power = powerOfSemantic(before);
    this.tracked.delete(uuid);
    if (power === 'RUNNING') this.emit(uuid, 'STOPPED', 'SHUTDOWN', node.uuid, 'requested');
  }

  // ---- looks at the backend -------------------------------------------------------------

  /**
   * The node as a call of ours found it before acting: a difference from what we remember
   * happened without us.
   */
  observe(uuid: string, node: IronicNode): void {
    const t = this.entry(uuid);
    this.record(uuid, t.power, node, 'out-of-band');
  }

  /** The epochs now, to judge a poll whose answer comes later (see observePolled). */
  epochs(): Map<string, number> {
    return new Map([...this.tracked].map(([uuid, t]) => [uuid, t.epoch]));
  }

  /** What a poll started at `epochs` saw: ignored for instances a call of ours touched meanwhile. */
  observePolled(uuid: string, node: IronicNode, epochs: Map<string, number>): void {
    const t = this.tracked.get(uuid);
    if (t && (t.busy > 0 || t.epoch !== epochs.get(uuid))) return;
    this.observe(uuid, node);
  }

  /** Instances a poll did not see any more (destroyed elsewhere): forgotten, without an event. */
  forgetMissing(present: ReadonlySet<string>, epochs: Map<string, number>): void {
    for (const [uuid, t] of this.tracked) {
      if (present.has(uuid) || t.busy > 0 || t.epoch !== epochs.get(uuid)) continue;
      this.tracked.delete(uuid);
    }
  }

  clear(): void {
    this.listeners.clear();
    this.tracked.clear();
    this.onListeners(0);
  }

  // ---- internals ------------------------------------------------------------------------

  private entry(uuid: string): Tracked {
    let t = this.tracked.get(uuid);
    if (!t) {
      t = { power: undefined, busy: 0, epoch: 0 };
      this.tracked.set(uuid, t);
    }
    return t;
  }

  /** Remember the node's power state; emit when it changed from a known `before`. */
  private record(uuid: string, before: PowerState | undefined, node: IronicNode, cause: EventCause): void {
    const t = this.entry(uuid);
    const after = powerStateOfNode(node);
    const known = cause === 'requested' ? before : t.power;
    t.power = after;
    t.epoch++;
    if (known === undefined) return;
    const kind = eventKindOf(known, after);
    if (kind) this.emit(uuid, kind, after, node.uuid, cause);
  }

  private emit(uuid: string, kind: LifecycleEventKind, powerState: PowerState, node: string, cause: EventCause): void {
    if (!this.enabled || this.listeners.size === 0) return;
    this.listeners.emit({ uuid, kind, powerState, node, timestamp: new Date().toISOString(), cause });
  }
}
