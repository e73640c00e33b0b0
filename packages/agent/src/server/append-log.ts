import { open, rename, type FileHandle } from 'node:fs/promises';

/**
 * A file of lines that are on disk when append() resolves. Appends made while a write is under
 * way go out together in the next write and share its fsync (group commit), so a burst of
 * mutating calls costs a few fsyncs, not one each. Writes and rewrites take turns.
 */
export class AppendLog {
  private queue: string[] = [];
  private waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  private scheduled = false;
  private tail: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    private handle: FileHandle,
  ) {}

  static async open(path: string): Promise<AppendLog> {
    return new AppendLog(path, await open(path, 'a', 0o600));
  }

  /** Run `task` after every task before it has finished. */
  private turn<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  append(line: string): Promise<void> {
    this.queue.push(line + '\n');
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      void this.turn(() => this.writeBatch());
    }
    return done;
  }

  private async writeBatch(): Promise<void> {
    this.scheduled = false;
    const text = this.queue.join('');
    const waiters = this.waiters;
    this.queue = [];
    this.waiters = [];
    try {
      await this.handle.write(text);
      await this.handle.datasync();
      for (const w of waiters) w.resolve();
    } catch (error) {
      for (const w of waiters) w.reject(error);
    }
  }

  /** Replace the whole file by `lines`, atomically (a new file renamed over the old one). */
  rewrite(lines: readonly string[]): Promise<void> {
    return this.turn(async () => {
      const tmp = `${this.path}.tmp`;
      const out = await open(tmp, 'w', 0o600);
      try {
        await out.write(lines.map((l) => l + '\n').join(''));
        await out.datasync();
      } finally {
        await out.close();
      }
      await rename(tmp, this.path);
      const old = this.handle;
      this.handle = await open(this.path, 'a', 0o600);
      await old.close();
    });
  }

  close(): Promise<void> {
    return this.turn(() => this.handle.close());
  }
}
