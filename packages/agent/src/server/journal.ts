import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppendLog } from './append-log.js';

/** What a mutating call ended with: the response's bytes, or the ErrorDetail's bytes. */
export type Outcome = { readonly ok: true; readonly response: Uint8Array } | { readonly ok: false; readonly error: Uint8Array };

interface Entry {
  readonly op: string;
  readonly fingerprint: string;
  readonly at: number;
  /** Set while this process runs the call: later duplicates wait for it. */
  running?: Promise<Outcome>;
  /** Set once the call ended with an outcome worth replaying. */
  outcome?: Outcome;
}

type RecordLine =
  | { k: 'begin'; id: string; op: string; fp: string; at: number }
  | { k: 'end'; id: string; ok: true; r: string }
  | { k: 'end'; id: string; ok: false; e: string };

export interface JournalOptions {
  /** How long an outcome is replayed (default a day). */
  ttlMs?: number;
  /** Most outcomes kept; the oldest go first (default 100,000). */
  maxEntries?: number;
  now?: () => number;
}

/** The request id was used before for another operation or other arguments. */
export class RequestIdReused extends Error {
  override readonly name = 'RequestIdReused';
  constructor(readonly requestId: string, readonly previousOp: string) {
    super(`request id ${requestId} was already used for another ${previousOp} request`);
  }
}

const FILE = 'requests.jsonl';

/** Wait for `promise` to settle, or for `signal` to abort (then throw its reason). */
function waitFor(promise: Promise<unknown>, signal: AbortSignal | undefined): Promise<void> {
  const settled = promise.then(
    () => undefined,
    () => undefined,
  );
  if (signal === undefined) return settled;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    void settled.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/**
 * The idempotency journal: request id -> outcome of the mutating call made with it. A call is
 * recorded as begun (on disk) before the driver acts, and as ended (on disk) before the answer
 * leaves, so a retry after a lost answer or an agent restart replays the outcome instead of
 * acting twice. A call the agent was running when it stopped is "interrupted": its retry runs
 * again, told so, and converges (see the server's CONVERGE table). An outcome that leaves the
 * result unknown (a retryable code: TIMEOUT, CANCELLED, BACKEND_UNAVAILABLE, CONFLICT) is not
 * recorded, so its retry runs again as an interrupted call. Without a directory the journal
 * lives in memory and protects retries within one run only.
 */
export class Journal {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private linesSinceCompaction = 0;

  private constructor(
    private readonly log: AppendLog | undefined,
    options: JournalOptions,
  ) {
    this.ttlMs = options.ttlMs ?? 24 * 3600_000;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  static inMemory(options: JournalOptions = {}): Journal {
    return new Journal(undefined, options);
  }

  /**
   * Load `<dir>/requests.jsonl` (dropping what expired), compact it, and append from there. A
   * missing `dir` is made (0700: the journal holds the callers' answers), as a daemon makes its
   * state directory on first start.
   */
  static async open(dir: string, options: JournalOptions = {}): Promise<Journal> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, FILE);
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const journal = new Journal(await AppendLog.open(path), options);
    for (const line of text.split('\n')) journal.replay(line);
    journal.expire();
    await journal.compact();
    return journal;
  }

  private replay(line: string): void {
    if (line.trim() === '') return;
    let record: RecordLine;
    try {
      record = JSON.parse(line) as RecordLine;
    } catch {
      return; // a line torn by a crash mid-write: the call it began is not on record
    }
    if (record.k === 'begin') this.entries.set(record.id, { op: record.op, fingerprint: record.fp, at: record.at });
    else {
      const entry = this.entries.get(record.id);
      if (entry !== undefined) entry.outcome = record.ok ? { ok: true, response: Buffer.from(record.r, 'base64') } : { ok: false, error: Buffer.from(record.e, 'base64') };
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Run `execute` once per request id. A repeat gets the recorded outcome; a repeat of a call
   * still running waits for it; a repeat of a call interrupted by a restart runs again with
   * `interrupted` true. `keep` says whether an outcome is replayed (false: the result is
   * unknown, and the next repeat runs as interrupted). A repeat stops waiting when `signal` aborts.
   */
  async run(
    id: string,
    op: string,
    fingerprint: string,
    execute: (interrupted: boolean) => Promise<Outcome>,
    keep: (outcome: Outcome) => boolean,
    signal?: AbortSignal,
  ): Promise<Outcome> {
    for (;;) {
      const entry = this.entries.get(id);
      if (entry === undefined) return this.start(id, op, fingerprint, false, execute, keep);
      if (entry.op !== op || entry.fingerprint !== fingerprint) throw new RequestIdReused(id, entry.op);
      if (entry.outcome !== undefined) return entry.outcome;
      if (entry.running === undefined) return this.start(id, op, fingerprint, true, execute, keep);
      await waitFor(entry.running, signal);
    }
  }

  private async start(
    id: string,
    op: string,
    fingerprint: string,
    interrupted: boolean,
    execute: (interrupted: boolean) => Promise<Outcome>,
    keep: (outcome: Outcome) => boolean,
  ): Promise<Outcome> {
    const entry: Entry = { op, fingerprint, at: this.now() };
    let begun = interrupted;
    const running = (async () => {
      if (!interrupted) {
        await this.write({ k: 'begin', id, op, fp: fingerprint, at: entry.at });
        begun = true;
      }
      const outcome = await execute(interrupted);
      if (keep(outcome)) {
        await this.write(outcome.ok ? { k: 'end', id, ok: true, r: Buffer.from(outcome.response).toString('base64') } : { k: 'end', id, ok: false, e: Buffer.from(outcome.error).toString('base64') });
        entry.outcome = outcome;
      }
      return outcome;
    })();
    entry.running = running;
    this.entries.set(id, entry);
    try {
      return await running;
    } catch (error) {
      // The journal could not be written. Before the call began nothing happened: forget it.
      // After, its outcome is unknown: the entry stays, and a retry runs as interrupted.
      if (!begun && this.entries.get(id) === entry) this.entries.delete(id);
      throw error;
    } finally {
      entry.running = undefined;
      this.trim();
    }
  }

  private async write(record: RecordLine): Promise<void> {
    if (this.log === undefined) return;
    this.linesSinceCompaction++;
    await this.log.append(JSON.stringify(record));
  }

  private expire(): void {
    const oldest = this.now() - this.ttlMs;
    for (const [id, entry] of this.entries) {
      if (entry.at >= oldest) break;
      if (entry.running === undefined) this.entries.delete(id);
    }
  }

  /** Drop what expired and what exceeds the bound; rewrite the file when it holds mostly the dead. */
  private trim(): void {
    this.expire();
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries) break;
      if (entry.running === undefined) this.entries.delete(id);
    }
    if (this.log !== undefined && this.linesSinceCompaction > Math.max(1000, 2 * this.entries.size)) void this.compact().catch(() => undefined);
  }

  private async compact(): Promise<void> {
    if (this.log === undefined) return;
    this.linesSinceCompaction = 0;
    const lines: string[] = [];
    for (const [id, e] of this.entries) {
      lines.push(JSON.stringify({ k: 'begin', id, op: e.op, fp: e.fingerprint, at: e.at } satisfies RecordLine));
      if (e.outcome !== undefined) {
        const o = e.outcome;
        lines.push(JSON.stringify(o.ok ? { k: 'end', id, ok: true, r: Buffer.from(o.response).toString('base64') } : { k: 'end', id, ok: false, e: Buffer.from(o.error).toString('base64') }));
      }
    }
    await this.log.rewrite(lines);
  }

  async close(): Promise<void> {
    await this.log?.close();
  }
}
