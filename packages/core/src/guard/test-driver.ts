import type { ComputeDriver } from '../driver/compute-driver.js';
import { declareCapabilities } from '../capabilities/driver-capabilities.js';
import type { CapabilityId } from '../capabilities/catalog.js';
import { DriverError } from '../errors/driver-error.js';
import type { InstanceInfo } from '../schemas/instance-info.js';

/**
 * A scriptable driver for the guard's own tests: each instance operation waits for a
 * configurable delay and records how many calls ran at once per instance and overall.
 * (The reference driver answers synchronously, so it cannot show overlap.)
 */
export class RecordingDriver implements ComputeDriver {
  delayMs = 5;
  readonly inFlight = new Map<string, number>();
  maxPerKey = 0;
  maxOverall = 0;
  private overall = 0;
  readonly log: string[] = [];
  supported: CapabilityId[] = ['operation.pause', 'operation.unpause'];
  behaviour: (op: string, uuid: string) => unknown = () => undefined;

  async initHost(): Promise<void> {}
  async cleanupHost(): Promise<void> {}
  async getCapabilities() {
    return declareCapabilities({ supported: this.supported });
  }
  async listNodes() {
    return [{ id: 'node-1', available: true }];
  }
  async getInventory() {
    return { nodes: [] };
  }
  async listInstances() {
    return [];
  }
  async getInfo(uuid: string): Promise<InstanceInfo> {
    return this.track('getInfo', uuid, () => ({
      uuid,
      name: 'x',
      powerState: 'RUNNING',
      mode: 'normal',
      node: 'node-1',
      metadata: {},
      volumes: [],
      interfaces: [],
    }));
  }
  async spawn(): Promise<void> {}
  async destroy(uuid: string): Promise<void> {
    await this.track('destroy', uuid, () => undefined);
  }
  /** A soft reboot waits until its signal aborts (a guest that never answers); a hard one takes delayMs. */
  async reboot(uuid: string, type: 'SOFT' | 'HARD', options?: { signal?: AbortSignal }): Promise<void> {
    if (type === 'HARD') return void (await this.track('reboot-hard', uuid, () => undefined, options?.signal));
    const saved = this.delayMs;
    this.delayMs = 3_600_000;
    const running = this.track('reboot-soft', uuid, () => undefined, options?.signal);
    this.delayMs = saved;
    await running;
  }
  async pause(uuid: string, options?: { signal?: AbortSignal }): Promise<void> {
    await this.track('pause', uuid, () => undefined, options?.signal);
  }

  private async track<T>(op: string, uuid: string, result: () => T, signal?: AbortSignal): Promise<T> {
    const n = (this.inFlight.get(uuid) ?? 0) + 1;
    this.inFlight.set(uuid, n);
    this.overall++;
    this.maxPerKey = Math.max(this.maxPerKey, n);
    this.maxOverall = Math.max(this.maxOverall, this.overall);
    this.log.push(`start ${op} ${uuid}`);
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, this.delayMs);
        signal?.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new DriverError('CANCELLED'));
        });
      });
      const custom = this.behaviour(op, uuid);
      if (custom instanceof Error) throw custom;
      if (custom !== undefined) return custom as T;
      return result();
    } finally {
      this.inFlight.set(uuid, (this.inFlight.get(uuid) ?? 1) - 1);
      this.overall--;
      this.log.push(`end ${op} ${uuid}`);
    }
  }
}
