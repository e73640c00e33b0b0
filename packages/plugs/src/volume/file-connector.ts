import { stat } from 'node:fs/promises';
import { DriverError, type ConnectionInfo } from '@nova-common/core';
import type { ConnectedVolume, ConnectorProperties, VolumeConnector, VolumeTransport } from '@nova-common/core/plugs';
import { hostConnector } from './connector-properties.js';
import { ConnectionRecords } from './records.js';
import { volumeFile } from './volume-paths.js';

export interface FileConnectorOptions {
  /** Directories volume files may lie in (after symbolic links are resolved). */
  roots: readonly string[];
  /** Where the connector keeps what it has connected. */
  stateDir: string;
}

/**
 * Volumes that are files on this host (an NFS mount, a local directory): the guest gets the
 * file itself. Connecting checks the file and records it; nothing else is made on the host.
 */
export class FileConnector implements VolumeConnector {
  readonly name = 'file (a volume file handed to the hypervisor as is)';
  readonly transports: readonly VolumeTransport[] = ['file'];
  private readonly records: ConnectionRecords;

  constructor(private readonly options: FileConnectorOptions) {
    this.records = new ConnectionRecords(options.stateDir);
  }

  getConnector(): Promise<ConnectorProperties> {
    return hostConnector({ multipath: false });
  }

  async connect(volumeId: string, info: ConnectionInfo): Promise<ConnectedVolume> {
    const file = await volumeFile('connect', volumeId, pathOf(info), this.options.roots);
    const existing = await this.records.get(volumeId);
    if (existing !== undefined && existing.path !== file.path) {
      throw new DriverError('CONFLICT', { op: 'connect', target: volumeId, detail: `the volume is connected from ${existing.path}` });
    }
    if (existing === undefined) await this.records.put({ volumeId, path: file.path });
    return { volumeId, kind: 'file', path: file.path, sizeBytes: file.sizeBytes };
  }

  async disconnect(volumeId: string): Promise<void> {
    await this.records.remove(volumeId);
  }

  async extend(volumeId: string): Promise<ConnectedVolume> {
    const record = await this.records.get(volumeId);
    if (record === undefined) throw new DriverError('VOLUME_NOT_ATTACHED', { op: 'extend', target: volumeId, detail: 'the volume is not connected on this host' });
    const info = await stat(record.path);
    return { volumeId, kind: 'file', path: record.path, sizeBytes: info.size };
  }

  async listConnected(): Promise<ConnectedVolume[]> {
    const out: ConnectedVolume[] = [];
    for (const r of await this.records.all()) {
      const size = await stat(r.path).then((s) => s.size, () => 0);
      out.push({ volumeId: r.volumeId, kind: 'file', path: r.path, sizeBytes: size });
    }
    return out;
  }
}

/** The file path of a `file` connection info (the guard has already refused other transports). */
export function pathOf(info: ConnectionInfo): string {
  if (info.driverVolumeType !== 'file') throw new DriverError('INTERNAL', { detail: `a ${info.driverVolumeType} connection reached a file connector` });
  return info.path;
}
