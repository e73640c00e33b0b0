/**
 * The listeners of a driver's event stream. `add` returns the unsubscribe function the
 * contract's subscribeEvents returns; `emit` calls each listener in subscription order, and a
 * listener that throws neither stops the others nor reaches the driver.
 */
export class ListenerSet<E> {
  private readonly listeners = new Set<(event: E) => void>();

  add(listener: (event: E) => void): () => void {
    // A wrapper per subscription, so one function subscribed twice gets two independent entries.
    const entry = (event: E): void => listener(event);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  emit(event: E): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A consumer's failure must not break the driver's event loop.
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }

  get size(): number {
    return this.listeners.size;
  }
}
