/**
 * Waiting for Ironic's asynchronous transitions without fixed-interval polling.
 *
 * Each wait looks at its node on its own schedule: the first look comes at a fraction of the
 * duration learnt for that kind of transition (an moving average of past completions), the
 * next ones back off geometrically from a short base, and the base schedule restarts whenever
 * the node is seen to move (a new provision or power state: the next step usually follows
 * soon). So a wait ends close to Ironic's own transition time, and a slow one costs few looks.
 *
 * Looks are batched: when several waits are due together (and they are a fair share of the
 * managed nodes), one paginated list call with only the state fields answers all of them, and
 * every wait, due or not, is judged on the fresh data. Hundreds of concurrent deploys then
 * cost a few list calls per second instead of one GET per node per tick.
 *
 * The looks are sent without the client's retries: a look that fails is simply repeated on the
 * wait's own schedule, so the wait's path has one retry layer (this schedule), not two. Failed
 * looks are not silent, though: once no look at a wait's node has been answered for the outage
 * budget (Ironic stopped, unreachable, answering 5xx), the wait rejects with BACKEND_UNAVAILABLE
 * (retryable) instead of looking on until its own deadline; one answered look starts the budget
 * again. So a wait ends within outageBudgetMs (+ one look) of the start of an outage.
 */
import type { IronicClient } from '../client/client.js';
import type { Query } from '../client/http.js';
import { STATE_FIELDS, type IronicNode } from '../client/types.js';
import { DriverError, abortError } from '@nova-common/core';

/** `done`: the wait resolves with the node; `{ fail }`: it rejects with WaitFailedError. */
export type Verdict = 'done' | 'continue' | { fail: string };

export interface PollPolicy {
  initialMs: number;
  factor: number;
  maxMs: number;
  batchThreshold: number;
}

export interface WaitOptions {
  /** Transitions of one kind share a learnt duration (deploy, power, teardown, ...). */
  kind: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export class WaitFailedError extends Error {
  override readonly name = 'WaitFailedError';
  constructor(
    message: string,
    readonly node: IronicNode,
  ) {
    super(message);
  }
}

export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
  constructor(
    message: string,
    readonly node: IronicNode | undefined,
  ) {
    super(message);
  }
}

interface Waiter {
  uuid: string;
  check: (node: IronicNode) => Verdict;
  kind: string;
  startedAt: number;
  deadline: number;
  dueAt: number;
  /** Looks since the node last moved. */
  step: number;
  base: number;
  last: string | undefined;
  lastNode: IronicNode | undefined;
  /** When the first of the failed looks since the last answered one started (undefined: none failed). */
  outageSince: number | undefined;
  /** Why the last look failed. */
  outageDetail: string;
  resolve: (node: IronicNode) => void;
  reject: (error: Error) => void;
  cleanup: () => void;
}

/** A wait cut short by cleanupHost. */
function closedError(): DriverError {
  return new DriverError('CANCELLED', { detail: 'the driver was shut down (cleanupHost) while waiting for Ironic' });
}

/** A wait given up because Ironic has not answered a look at its node for the outage budget. */
function outageError(w: Waiter, now: number): DriverError {
  return new DriverError('BACKEND_UNAVAILABLE', {
    target: w.uuid,
    detail: `Ironic has not answered for ${Math.round(now - (w.outageSince ?? now))} ms while waiting for the ${w.kind} of node ${w.uuid}: ${w.outageDetail}`,
  });
}

function fingerprint(n: IronicNode): string {
  return `${n.provision_state}|${n.target_provision_state}|${n.power_state}|${n.target_power_state}`;
}

export class NodeWatcher {
  private readonly waiters = new Set<Waiter>();
  private readonly learnt = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;
  private polling = false;
  private closed = false;
  /** Nodes seen by the last list call: decides whether a list is cheaper than single GETs. */
  private knownNodes = 0; // unknown until the first list call
  readonly stats = { lists: 0, gets: 0 };

  constructor(
    private readonly client: IronicClient,
    private readonly policy: PollPolicy,
    /** Filters of the nodes this host manages (the list call's query). */
    private readonly listQuery: Query,
    private readonly pageSize: number,
    /** A wait whose looks have all failed for this long rejects with BACKEND_UNAVAILABLE. */
    private readonly outageBudgetMs = Infinity,
  ) {}

  /** Learnt typical duration of a kind of transition, in ms (undefined until one completed). */
  typicalMs(kind: string): number | undefined {
    return this.learnt.get(kind);
  }

  wait(uuid: string, check: (node: IronicNode) => Verdict, o: WaitOptions): Promise<IronicNode> {
    if (this.closed) return Promise.reject(closedError());
    // An abort listener added to an aborted signal never fires: settle now instead.
    if (o.signal?.aborted) return Promise.reject(abortError(o.signal));
    return new Promise<IronicNode>((resolve, reject) => {
      const now = performance.now();
      const typical = this.learnt.get(o.kind);
      const base = Math.max(this.policy.initialMs, typical === undefined ? 0 : Math.min(typical * 0.1, this.policy.maxMs / 4));
      const first = typical === undefined ? this.policy.initialMs : Math.min(this.policy.maxMs, Math.max(this.policy.initialMs, typical * 0.8));
      const onAbort = () => this.finish(w, () => reject(abortError(o.signal!)));
      const w: Waiter = {
        uuid,
        check,
        kind: o.kind,
        startedAt: now,
        deadline: now + o.timeoutMs,
        dueAt: now + first,
        step: 0,
        base,
        last: undefined,
        lastNode: undefined,
        outageSince: undefined,
        outageDetail: '',
        resolve,
        reject,
        cleanup: () => o.signal?.removeEventListener('abort', onAbort),
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(w);
      this.schedule();
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of [...this.waiters]) this.finish(w, () => w.reject(closedError()));
  }

  /** Settle a wait once: forget it, drop its abort listener, then resolve or reject it. */
  private finish(w: Waiter, fn: () => void): void {
    if (!this.waiters.delete(w)) return;
    w.cleanup();
    fn();
  }

  private schedule(): void {
    if (this.closed || this.polling) return;
    let next = Infinity;
    for (const w of this.waiters) next = Math.min(next, w.dueAt, w.deadline, this.outageEnd(w));
    if (next === Infinity) return;
    if (this.timer && next >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      void this.tick();
    }, Math.max(0, next - performance.now()));
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    this.polling = true;
    try {
      const now = performance.now();
      for (const w of [...this.waiters]) {
        if (now >= this.outageEnd(w)) {
          this.finish(w, () => w.reject(outageError(w, now)));
        } else if (now >= w.deadline) {
          // Ironic not answering at the deadline is an outage, not a slow transition.
          const error = w.outageSince !== undefined ? outageError(w, now) : new WaitTimeoutError(`node ${w.uuid}: ${w.kind} not finished after ${Math.round(now - w.startedAt)} ms`, w.lastNode);
          this.finish(w, () => w.reject(error));
        }
      }
      const due = [...this.waiters].filter((w) => w.dueAt <= now + 1);
      if (due.length === 0) return;
      const useList = due.length >= this.policy.batchThreshold && due.length * 8 >= this.knownNodes;
      if (useList) await this.lookByList(due);
      else await Promise.all([...new Set(due.map((w) => w.uuid))].map((uuid) => this.lookOne(uuid)));
    } finally {
      this.polling = false;
      this.schedule();
    }
  }

  private async lookByList(due: Waiter[]): Promise<void> {
    let nodes: IronicNode[];
    const started = performance.now();
    try {
      this.stats.lists++;
      nodes = await this.client.nodes.list({ fields: STATE_FIELDS, query: this.listQuery, limit: this.pageSize, retry: false });
    } catch (e) {
      this.unanswered(due, started, e);
      return;
    }
    this.knownNodes = nodes.length;
    const byUuid = new Map(nodes.map((n) => [n.uuid, n]));
    for (const w of [...this.waiters]) {
      const n = byUuid.get(w.uuid);
      if (n) this.judge(w, n);
      else if (due.includes(w)) this.judgeMissing(w);
    }
  }

  private async lookOne(uuid: string): Promise<void> {
    let node: IronicNode;
    const started = performance.now();
    try {
      this.stats.gets++;
      node = await this.client.nodes.get(uuid, STATE_FIELDS, { retry: false });
    } catch (e) {
      if ((e as { kind?: string }).kind === 'not-found') {
        for (const w of [...this.waiters]) if (w.uuid === uuid) this.finish(w, () => w.reject(e as Error));
        return;
      }
      this.unanswered([...this.waiters].filter((w) => w.uuid === uuid), started, e);
      return;
    }
    for (const w of [...this.waiters]) if (w.uuid === uuid) this.judge(w, node);
  }

  /** Not in the list (outside the filters): look at it alone next time. */
  private judgeMissing(w: Waiter): void {
    void this.lookOne(w.uuid).finally(() => this.schedule());
  }

  /** When the outage budget of `w` runs out (Infinity while its looks are answered). */
  private outageEnd(w: Waiter): number {
    return w.outageSince === undefined ? Infinity : w.outageSince + this.outageBudgetMs;
  }

  /** A look started at `started` got no answer: count the outage, give up once over the budget, else look again later. */
  private unanswered(ws: Waiter[], started: number, error: unknown): void {
    const now = performance.now();
    const detail = error instanceof Error ? error.message : String(error);
    const again: Waiter[] = [];
    for (const w of ws) {
      if (!this.waiters.has(w)) continue;
      w.outageSince ??= started;
      w.outageDetail = detail;
      if (now >= this.outageEnd(w)) this.finish(w, () => w.reject(outageError(w, now)));
      else again.push(w);
    }
    this.retryLater(again);
  }

  private retryLater(ws: Waiter[]): void {
    const now = performance.now();
    for (const w of ws) {
      w.step++;
      w.dueAt = now + Math.min(this.policy.maxMs, w.base * this.policy.factor ** w.step);
    }
  }

  private judge(w: Waiter, node: IronicNode): void {
    if (!this.waiters.has(w)) return;
    w.lastNode = node;
    w.outageSince = undefined;
    let verdict: Verdict;
    try {
      verdict = w.check(node);
    } catch (e) {
      this.finish(w, () => w.reject(e as Error));
      return;
    }
    const now = performance.now();
    if (verdict === 'done') {
      const took = now - w.startedAt;
      const prev = this.learnt.get(w.kind);
      this.learnt.set(w.kind, prev === undefined ? took : prev * 0.7 + took * 0.3);
      this.finish(w, () => w.resolve(node));
      return;
    }
    if (verdict !== 'continue') {
      this.finish(w, () => w.reject(new WaitFailedError(verdict.fail, node)));
      return;
    }
    const fp = fingerprint(node);
    if (w.last !== undefined && fp !== w.last) w.step = 0;
    else w.step++;
    w.last = fp;
    w.dueAt = now + Math.min(this.policy.maxMs, w.base * this.policy.factor ** w.step);
  }
}
