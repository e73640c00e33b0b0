/**
 * Ironic's own bound on this machine: every deploy's requests sent at once, and each deploy
 * timed by Ironic itself (the node's `provision_updated_at` when it became active), not by when
 * a client saw it. No client can have a node active earlier than Ironic records it, nor send
 * its requests earlier than all at once, so N over the last of those times bounds the deploys/s
 * of any client; the observation (one list every 2 s) adds nothing to the times. The undeploy
 * is observed with one list per 500 ms (its figure is for comparison, not a bound).
 */
import { sleep } from './baseline.js';

const VERSION = '1.78';

export class IronicBound {
  readonly stats = { requests: 0 };
  constructor(private readonly endpoint: string, private readonly resourceClass: string) {}

  private async call(method: string, path: string, body?: unknown): Promise<any> {
    for (;;) {
      this.stats.requests++;
      const res = await fetch(this.endpoint + path, {
        method,
        headers: { 'X-OpenStack-Ironic-API-Version': VERSION, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (res.status === 409 && text.includes('locked')) {
        await sleep(100);
        continue;
      }
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    }
  }

  /** Send a step's requests for every node, retrying what Ironic refuses under load; resolves once all were accepted. */
  private async sendAll(work: Work[], send: (w: Work) => Promise<unknown>): Promise<void> {
    await Promise.all(
      work.map(async (w) => {
        for (let attempt = 0; ; attempt++) {
          try {
            return await send(w);
          } catch (e) {
            if (attempt >= 20) throw e;
            await sleep(500);
          }
        }
      }),
    );
  }

  /**
   * The bound: every deploy sent at once, each timed by Ironic (ms after the first request).
   * Ironic's timestamps and this process read the same clock (one machine).
   */
  async deployAllTimedByIronic(work: Work[], imageSource: string): Promise<Map<string, number>> {
    const t0 = Date.now();
    await this.sendAll(work, (w) => this.deploy(w, imageSource));
    const times = new Map<string, number>();
    while (times.size < work.length) {
      await sleep(2000);
      const all = await this.list();
      for (const w of work) {
        const n = all.get(w.node);
        if (times.has(w.node) || n?.provision_state !== 'active' || n.target_provision_state) continue;
        times.set(w.node, Date.parse(n.provision_updated_at) - t0);
      }
    }
    return times;
  }

  private async deploy(w: Work, imageSource: string): Promise<void> {
    await this.call('PATCH', `/v1/nodes/${w.node}`, [
      { op: 'add', path: '/instance_uuid', value: w.uuid },
      { op: 'add', path: '/instance_info', value: { image_source: imageSource, root_gb: '10', display_name: w.uuid } },
    ]);
    await this.call('GET', `/v1/nodes/${w.node}/validate`);
    await this.call('POST', `/v1/nodes/${w.node}/vifs`, { id: w.vif });
    await this.call('PUT', `/v1/nodes/${w.node}/states/provision`, { target: 'active', configdrive: { meta_data: { uuid: w.uuid } } });
  }

  private async list(): Promise<Map<string, any>> {
    const out = new Map<string, any>();
    let marker = '';
    for (;;) {
      const q = `/v1/nodes?resource_class=${this.resourceClass}&associated=true&fields=uuid,provision_state,target_provision_state,provision_updated_at,power_state,target_power_state,instance_uuid&limit=1000${marker ? `&marker=${marker}` : ''}`;
      const page = (await this.call('GET', q)).nodes as any[];
      for (const n of page) out.set(n.uuid, n);
      if (page.length < 1000) return out;
      marker = page[page.length - 1].uuid;
    }
  }

  /**
   * Drive every node through its steps: a step's request is sent as soon as the list shows the
   * previous step done. One list call (nodes with an instance only) per 500 ms observes the whole batch.
   */
  private async drive(work: Work[], steps: Step[]): Promise<Map<string, number>> {
    const finished = new Map<string, number>();
    const phase = new Map<string, number>(work.map((w) => [w.node, 0]));
    const inFlight = new Set<string>();
    const start = (w: Work, attempt = 0) => {
      const step = steps[phase.get(w.node)!]!;
      inFlight.add(w.node);
      void step.send(w).then(
        () => inFlight.delete(w.node),
        (e: unknown) => {
          // Refused under load (503, a lock held too long): send the step again a bit later.
          if (attempt >= 20) throw e;
          setTimeout(() => start(w, attempt + 1), 500);
        },
      );
    };
    work.forEach(start);
    while (finished.size < work.length) {
      await sleep(500);
      const all = await this.list();
      for (const w of work) {
        if (finished.has(w.node) || inFlight.has(w.node)) continue;
        const k = phase.get(w.node)!;
        if (!steps[k]!.done(all.get(w.node), w)) continue;
        if (k + 1 === steps.length) finished.set(w.node, performance.now());
        else {
          phase.set(w.node, k + 1);
          start(w);
        }
      }
    }
    return finished;
  }

  undeployAll(work: Work[]): Promise<Map<string, number>> {
    return this.drive(work, [
      {
        send: (w) => this.call('PUT', `/v1/nodes/${w.node}/states/power`, { target: 'power off' }),
        done: (n) => n?.power_state === 'power off' && !n.target_power_state,
      },
      {
        send: async (w) => {
          await this.call('DELETE', `/v1/nodes/${w.node}/vifs/${w.vif}`);
          await this.call('PUT', `/v1/nodes/${w.node}/states/provision`, { target: 'deleted' });
        },
        done: (n, w) => n === undefined || n.instance_uuid !== w.uuid, // gone from the associated list
      },
    ]);
  }
}

export interface Work {
  node: string;
  uuid: string;
  vif: string;
}

interface Step {
  send: (w: Work) => Promise<unknown>;
  done: (n: any, w: Work) => boolean;
}
