import { DriverError, type ConnectionInfo } from '@nova-common/core';
import type { ConnectedVolume, ConnectorProperties, PlugCallOptions, VolumeConnector, VolumeTransport } from '@nova-common/core/plugs';
import { losetup } from '../host/losetup.js';
import { hostConnector } from './connector-properties.js';
import { pathOf, type FileConnectorOptions } from './file-connector.js';
import { ConnectionRecords, type ConnectionRecord } from './records.js';
import { volumeFile } from './volume-paths.js';

/**
 * Volume files given to the guest as block devices through a loop device (`losetup`), the
 * way a host exposes a file-backed volume to a hypervisor or a container that wants a block
 * device. The connector only ever detaches a loop device it attached, and only while that
 * device still backs the file it attached (checked with `losetup --list` each time).
 */
export class LoopConnector implements VolumeConnector {
  readonly name = 'loop (a volume file attached as a loop block device)';
  readonly transports: readonly VolumeTransport[] = ['file'];
  private readonly records: ConnectionRecords;

  constructor(private readonly options: FileConnectorOptions) {
    this.records = new ConnectionRecords(options.stateDir);
  }

  getConnector(): Promise<ConnectorProperties> {
    return hostConnector({ multipath: false });
  }

  async connect(volumeId: string, info: ConnectionInfo, options: PlugCallOptions = {}): Promise<ConnectedVolume> {
    const file = await volumeFile('connect', volumeId, pathOf(info), this.options.roots);
    const existing = await this.live(volumeId);
    if (existing !== undefined) {
      if (existing.path !== file.path) {
        throw new DriverError('CONFLICT', { op: 'connect', target: volumeId, detail: `the volume is connected from ${existing.path}` });
      }
      return this.connected(existing);
    }
    const device = await losetup.attach('connect', file.path, options.signal);
    try {
      await this.records.put({ volumeId, path: file.path, device });
      // A new loop device is as large as its file was when attached.
      return { volumeId, kind: 'block', path: device, sizeBytes: file.sizeBytes };
    } catch (error) {
      // Nothing stays connected after a failed connect.
      await losetup.detach('connect', device).catch(() => undefined);
      await this.records.remove(volumeId).catch(() => undefined);
      throw error;
    }
  }

  async disconnect(volumeId: string, _info: ConnectionInfo, options: PlugCallOptions = {}): Promise<void> {
    const record = await this.live(volumeId);
    if (record?.device !== undefined) await losetup.detach('disconnect', record.device, options.signal);
    await this.records.remove(volumeId);
  }

  async extend(volumeId: string, _info: ConnectionInfo, options: PlugCallOptions = {}): Promise<ConnectedVolume> {
    const record = await this.live(volumeId);
    if (record?.device === undefined) {
      throw new DriverError('VOLUME_NOT_ATTACHED', { op: 'extend', target: volumeId, detail: 'the volume is not connected on this host' });
    }
    await losetup.refresh('extend', record.device, options.signal);
    return this.connected(record);
  }

  async listConnected(options: PlugCallOptions = {}): Promise<ConnectedVolume[]> {
    const loops = await losetup.list('listConnected', options.signal);
    const out: ConnectedVolume[] = [];
    for (const r of await this.records.all()) {
      if (r.device === undefined || !loops.some((l) => l.device === r.device && l.backing === r.path)) continue;
      out.push(await this.connected(r));
    }
    return out;
  }

  /** The volume's record when its loop device still backs its file; a stale record (device gone or reused) is dropped. */
  private async live(volumeId: string): Promise<ConnectionRecord | undefined> {
    const record = await this.records.get(volumeId);
    if (record === undefined) return undefined;
    if (record.device !== undefined && (await losetup.backingOf('connect', record.device)) === record.path) return record;
    await this.records.remove(volumeId);
    return undefined;
  }

  private async connected(record: ConnectionRecord): Promise<ConnectedVolume> {
    const sizeBytes = await losetup.sizeBytes('connect', record.device!);
    return { volumeId: record.volumeId, kind: 'block', path: record.device!, sizeBytes };
  }
}
