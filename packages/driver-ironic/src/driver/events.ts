/**
 * Lifecycle events. Ironic pushes nothing to us (its power notifications go to Nova's API), so
 * the driver emits STARTED/STOPPED when one of its own operations changes an instance's power
 * state, before the operation resolves. The listeners are core's ListenerSet.
 */
import { ListenerSet, errors, type LifecycleEvent, type LifecycleEventKind, type LifecycleListener, type SemanticState, type Unsubscribe } from '@nova-common/core';
import type { IronicNode } from '../client/types.js';
import { powerStateOfNode, semanticStateOf } from '../mapping/state.js';

const isUp = (s: SemanticState): boolean => s === 'RUNNING' || s === 'RESCUE';

export class IronicEvents {
  private readonly listeners = new ListenerSet<LifecycleEvent>();

  constructor(
    /** config.events: false declares event.lifecycle missing. */
    readonly enabled: boolean,
  ) {}

  subscribe(listener: LifecycleListener): Unsubscribe {
    if (!this.enabled) throw errors.unsupported('event.lifecycle', 'subscribeEvents');
    return this.listeners.add(listener);
  }

  emit(uuid: string, kind: LifecycleEventKind, node: IronicNode): void {
    if (!this.enabled || this.listeners.size === 0) return;
    this.listeners.emit({ uuid, kind, powerState: powerStateOfNode(node), node: node.uuid, timestamp: new Date().toISOString() });
  }

  /** The event of a transition from `before` to the state `after` shows, when the power state changed. */
  afterTransition(uuid: string, before: SemanticState, after: IronicNode): void {
    const now = semanticStateOf(after);
    if (isUp(before) && !isUp(now)) this.emit(uuid, 'STOPPED', after);
    else if (!isUp(before) && isUp(now)) this.emit(uuid, 'STARTED', after);
  }

  /** An instance that was up is gone (destroy). */
  afterDestroy(uuid: string, before: SemanticState, node: IronicNode): void {
    if (isUp(before)) this.emit(uuid, 'STOPPED', { ...node, power_state: 'power off', provision_state: 'available' });
  }

  clear(): void {
    this.listeners.clear();
  }
}
