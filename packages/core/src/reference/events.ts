import type { LifecycleListener, Unsubscribe } from '../driver/compute-driver.js';
import type { EventCause, LifecycleEvent, LifecycleEventKind } from '../schemas/outputs.js';
import type { PowerState } from '../schemas/power-state.js';
import { powerStateOf } from '../semantics/states.js';
import type { ExistingState } from './instance.js';

type Timer = ReturnType<typeof setTimeout>;

/**
 * Delivers lifecycle events to subscribers, synchronously (delay 0: before the operation
 * resolves) or after a fixed delay. An event goes to the listeners subscribed when the
 * transition happened and still subscribed at delivery. Each listener gets its own copy;
 * a throwing listener is isolated from the driver and from the other listeners.
 */
export class EventHub {
  private readonly listeners = new Set<LifecycleListener>();
  /** Events waiting for their delay, with the listeners subscribed when they happened. */
  private readonly queued = new Map<Timer, [LifecycleEvent, LifecycleListener[]]>();

  constructor(private readonly delayMs: number) {}

  subscribe(listener: LifecycleListener): Unsubscribe {
    // Wrapped so the same function subscribed twice gets two independent subscriptions.
    const entry: LifecycleListener = (event) => listener(event);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  emit(uuid: string, kind: LifecycleEventKind, powerState: PowerState, node: string, cause: EventCause = 'requested'): void {
    if (this.listeners.size === 0) return;
    const event: LifecycleEvent = { uuid, kind, powerState, node, timestamp: new Date().toISOString(), cause };
    const listeners = [...this.listeners];
    if (this.delayMs === 0) {
      this.deliver(event, listeners);
      return;
    }
    const timer = setTimeout(() => {
      this.queued.delete(timer);
      this.deliver(event, listeners);
    }, this.delayMs);
    timer.unref?.();
    this.queued.set(timer, [event, listeners]);
  }

  /** Deliver every event still waiting, now, and stop the timers (cleanupHost). */
  flush(): void {
    const waiting = [...this.queued.values()];
    for (const timer of this.queued.keys()) clearTimeout(timer);
    this.queued.clear();
    for (const [event, listeners] of waiting) this.deliver(event, listeners);
  }

  private deliver(event: LifecycleEvent, listeners: readonly LifecycleListener[]): void {
    for (const listener of listeners) {
      if (!this.listeners.has(listener)) continue;
      try {
        listener({ ...event });
      } catch {
        // A listener's failure is its own: the transition already happened and the others still hear of it.
      }
    }
  }
}

/** Words of console lines for actions that do not change the power state. */
export const ACTION_WORDS: Partial<Record<string, string>> = {
  reboot: 'REBOOTED',
  rebuild: 'REBUILT',
  rescue: 'RESCUED',
  unrescue: 'UNRESCUED',
  simulateCrash: 'CRASHED',
  simulateNoState: 'NOSTATE',
  simulateGuestShutdown: 'STOPPED',
  restoreState: 'RESTORED',
};

/** The lifecycle event kind for a power transition (a kind eventKindsFor(to) lists). */
export function eventKind(from: ExistingState | 'ABSENT', to: ExistingState): LifecycleEventKind | undefined {
  switch (powerStateOf(to)) {
    case 'RUNNING':
      return from === 'PAUSED' || from === 'SUSPENDED' ? 'RESUMED' : 'STARTED';
    case 'SHUTDOWN':
      return 'STOPPED';
    case 'PAUSED':
      return 'PAUSED';
    case 'SUSPENDED':
      return 'SUSPENDED';
    case 'CRASHED':
      return 'CRASHED';
    default:
      return undefined;
  }
}

