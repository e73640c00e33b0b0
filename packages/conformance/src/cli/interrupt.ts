import { OPERATION_NAMES, type ComputeDriver } from '@nova-common/core';

/**
 * Ctrl-C during a run. The engine cannot be cancelled from outside, so the CLI stops it at
 * the driver: every raw driver the run creates goes through a gate, and once interrupted the
 * gate lets no new call reach the backend (the call never settles, so the engine stops
 * where it is). Calls already in flight are waited for, so what they create is there to be
 * swept.
 */
export class InterruptGate {
  private closed = false;
  private inFlight = 0;
  private idle: (() => void)[] = [];

  get interrupted(): boolean {
    return this.closed;
  }

  close(): void {
    this.closed = true;
  }

  /** The driver with every operation it has passing through the gate; test hooks and the event subscription stay as they are. */
  wrap(raw: ComputeDriver): ComputeDriver {
    const wrapped: Record<string, unknown> = {};
    const source = raw as unknown as Record<string, unknown>;
    for (const op of OPERATION_NAMES) {
      const method = source[op];
      if (typeof method !== 'function') continue;
      wrapped[op] = (...args: unknown[]): Promise<unknown> => this.pass(() => (method as (...a: unknown[]) => Promise<unknown>).apply(raw, args));
    }
    if (typeof raw.subscribeEvents === 'function') wrapped.subscribeEvents = raw.subscribeEvents.bind(raw);
    return wrapped as unknown as ComputeDriver;
  }

  private pass(call: () => Promise<unknown>): Promise<unknown> {
    if (this.closed) return new Promise(() => {});
    this.inFlight++;
    let p: Promise<unknown>;
    try {
      p = Promise.resolve(call());
    } catch (error) {
      p = Promise.reject(error);
    }
    return p.finally(() => {
      this.inFlight--;
      if (this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
    });
  }

  /** Resolves when no call is in flight, or after `timeoutMs`; true when drained. */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idle.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

/** Where interrupts come from; the CLI listens for SIGINT on the process. */
export interface InterruptSource {
  /** Call `handler` on every interrupt until the returned function is called. */
  listen(handler: () => void): () => void;
}

export const processInterrupts: InterruptSource = {
  listen(handler) {
    process.on('SIGINT', handler);
    return () => {
      process.off('SIGINT', handler);
    };
  },
};

/** A promise that resolves on the first interrupt, and the count of interrupts so far. */
export function onInterrupt(source: InterruptSource, onEach: (count: number) => void): { first: Promise<void>; stop: () => void } {
  let count = 0;
  let resolveFirst!: () => void;
  const first = new Promise<void>((r) => (resolveFirst = r));
  const stop = source.listen(() => {
    count++;
    if (count === 1) resolveFirst();
    onEach(count);
  });
  return { first, stop };
}
