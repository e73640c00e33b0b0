/**
 * Out-of-band changes: while anyone listens to events, one list call every `eventPollMs` reads
 * the power and provision state of the nodes holding this host's instances, and every change the
 * driver did not make becomes an event with cause `out-of-band` (events.ts decides which). An
 * operator's power action through Ironic's API, a failed deploy, Ironic's own power sync noticing
 * that a machine went off: whatever Ironic records is seen at the next look.
 *
 * The looks are sent without the client's retries: a look that fails (Ironic restarting) is
 * simply the next one, `eventPollMs` later.
 */
import { STATE_FIELDS } from '../client/types.js';
import { isOurs } from '../mapping/instance-info.js';
import type { IronicContext } from './context.js';

const POLL_FIELDS = [...STATE_FIELDS, 'instance_info'] as const;

export class OutOfBandPoller {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private active = false;
  private looking: AbortController | undefined;
  readonly stats = { looks: 0, failed: 0 };

  constructor(
    private readonly ctx: IronicContext,
    /** Milliseconds between two looks; 0 turns the poller off. */
    private readonly intervalMs: number,
  ) {}

  /** Run while there are listeners. */
  setWanted(wanted: boolean): void {
    if (this.intervalMs <= 0) return;
    if (wanted && !this.active) {
      this.active = true;
      this.schedule(0);
    } else if (!wanted && this.active) {
      this.active = false;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.looking?.abort();
    }
  }

  private schedule(delayMs: number): void {
    if (!this.active) return;
    if (this.timer) clearTimeout(this.timer); // one chain of looks, whatever overlapped
    this.timer = setTimeout(() => void this.look(), delayMs);
    this.timer.unref?.();
  }

  private async look(): Promise<void> {
    this.timer = undefined;
    if (!this.active) return;
    if (!this.ctx.connected) return this.schedule(this.intervalMs);
    const events = this.ctx.events;
    const epochs = events.epochs();
    const looking = new AbortController();
    this.looking = looking;
    try {
      this.stats.looks++;
      const nodes = await this.ctx.client.nodes.list({
        fields: POLL_FIELDS,
        query: { ...this.ctx.filterQuery(), associated: true },
        limit: this.ctx.config.pageSize,
        retry: false,
        signal: looking.signal,
      });
      const present = new Set<string>();
      for (const node of nodes) {
        if (!node.instance_uuid || !isOurs(node, this.ctx.config.hostId)) continue;
        present.add(node.instance_uuid);
        events.observePolled(node.instance_uuid, node, epochs);
      }
      events.forgetMissing(present, epochs);
    } catch {
      // Ironic unreachable or restarting: the next look tries again.
      this.stats.failed++;
    } finally {
      if (this.looking === looking) this.looking = undefined;
      this.schedule(this.intervalMs);
    }
  }
}
