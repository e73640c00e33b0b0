/**
 * The direct-API baseline, written the simplest way, as Nova's ironic driver waits: the same
 * requests a Nova-style deploy makes, and a fixed 2-second poll for every transition.
 * Plain fetch (Node's default pool), no retries beyond a 409 loop, one GET per node per tick.
 */
export interface BaselineStats {
  requests: number;
}

const VERSION = '1.78';
const POLL_MS = 2000;

export class Baseline {
  readonly stats: BaselineStats = { requests: 0 };
  constructor(private readonly endpoint: string) {}

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
        await sleep(POLL_MS);
        continue;
      }
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    }
  }

  private async poll(node: string, done: (n: any) => boolean): Promise<void> {
    for (;;) {
      await sleep(POLL_MS);
      const n = await this.call('GET', `/v1/nodes/${node}`);
      if (n.provision_state === 'deploy failed' || n.provision_state === 'error') throw new Error(`${node}: ${n.last_error}`);
      if (done(n)) return;
    }
  }

  async deploy(node: string, uuid: string, vifId: string, imageSource: string): Promise<void> {
    await this.call('PATCH', `/v1/nodes/${node}`, [
      { op: 'add', path: '/instance_uuid', value: uuid },
      { op: 'add', path: '/instance_info', value: { image_source: imageSource, root_gb: '10', display_name: uuid } },
    ]);
    await this.call('GET', `/v1/nodes/${node}/validate`);
    await this.call('POST', `/v1/nodes/${node}/vifs`, { id: vifId });
    await this.call('PUT', `/v1/nodes/${node}/states/provision`, { target: 'active', configdrive: { meta_data: { uuid } } });
    await this.poll(node, (n) => n.provision_state === 'active' && !n.target_provision_state);
    await this.call('PUT', `/v1/nodes/${node}/states/power`, { target: 'power on' });
    await this.poll(node, (n) => n.power_state === 'power on' && !n.target_power_state);
  }

  async undeploy(node: string, uuid: string, vifId: string): Promise<void> {
    await this.call('PUT', `/v1/nodes/${node}/states/power`, { target: 'power off' });
    await this.poll(node, (n) => n.power_state === 'power off' && !n.target_power_state);
    await this.call('DELETE', `/v1/nodes/${node}/vifs/${vifId}`);
    await this.call('PUT', `/v1/nodes/${node}/states/provision`, { target: 'deleted' });
    await this.poll(node, (n) => n.instance_uuid !== uuid);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
