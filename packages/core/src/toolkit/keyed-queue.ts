/**
 * Runs tasks one after another per key and in parallel across keys. The guard uses it so that
 * two operations on the same instance never overlap inside a driver, while operations on
 * different instances proceed at once; drivers use it for their own shared resources (an
 * engine network several instances use, a node table). A task's failure does not block the
 * next one, and a key is forgotten once nothing is queued on it.
 * (Written here because it is a dozen lines and the usual libraries (p-queue, async-mutex)
 * serialise globally or need one object per key that is never released.)
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  /**
   * Runs `task` once every task queued before it on `key` has settled, and returns its result.
   * A task that throws synchronously rejects the returned promise like one that rejects.
   */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const result = previous === undefined ? start(task) : previous.then(task);
    // One hop per call: the tail settles after the task and forgets the key if nobody queued behind it.
    const holder: { tail?: Promise<void> } = {};
    const release = (): void => {
      if (this.tails.get(key) === holder.tail) this.tails.delete(key);
    };
    holder.tail = result.then(release, release);
    this.tails.set(key, holder.tail);
    return result;
  }

  /** Number of keys with work queued or running (for tests and diagnostics). */
  get activeKeys(): number {
    return this.tails.size;
  }
}

function start<T>(task: () => Promise<T>): Promise<T> {
  try {
    return task();
  } catch (error) {
    return Promise.reject(error);
  }
}
