import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DriverError, type ConnectionInfo } from '@nova-common/core';
import type { ConnectedVolume, ConnectorProperties, PlugCallOptions, VolumeConnector, VolumeTransport } from '@nova-common/core/plugs';
import { mustRun } from '../host/run-command.js';
import { storageDaemon, type IscsiLun } from '../host/qemu-storage-daemon.js';
import { hostConnector } from './connector-properties.js';
import { ConnectionRecords, type ConnectionRecord } from './records.js';

export interface IscsiConnectorOptions {
  /** The target portals (`host:port`) this host may log in to; any other is INVALID_INPUT naming `connectionInfo.targetPortal`. */
  portals: readonly string[];
  /** Where the connector keeps what it has connected, and the files its LUNs are exported at. */
  stateDir: string;
  /** This host's iSCSI initiator name (default: one made from the host name). */
  initiatorName?: string;
}

/**
 * iSCSI volumes without a kernel initiator: QEMU's user-space initiator (libiscsi) in one
 * qemu-storage-daemon per volume logs in to the target and exports the LUN as a regular file
 * through FUSE; the guest gets that file (`kind: 'file'`). The daemon outlives the connector
 * (the agent may restart while guests run); the record in the state directory names it, and the
 * connector only ever stops a daemon that is still the one it started for that file. Extend asks
 * the target for the LUN's new size and has the daemon resize its block node (QMP block_resize),
 * which the exported file then shows.
 */
export class IscsiConnector implements VolumeConnector {
  readonly name = 'iscsi (a LUN through QEMU\'s user-space initiator, exported as a file over FUSE)';
  readonly transports: readonly VolumeTransport[] = ['iscsi'];
  private readonly records: ConnectionRecords;
  private readonly exports: string;
  private readonly initiatorName: string;

  constructor(private readonly options: IscsiConnectorOptions) {
    this.records = new ConnectionRecords(options.stateDir);
    this.exports = join(options.stateDir, 'iscsi');
    this.initiatorName = options.initiatorName ?? `iqn.2026-01.org.nova-common:${hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-')}`;
  }

  async getConnector(): Promise<ConnectorProperties> {
    return { ...(await hostConnector({ multipath: false })), initiator: this.initiatorName };
  }

  async connect(volumeId: string, info: ConnectionInfo, options: PlugCallOptions = {}): Promise<ConnectedVolume> {
    const lun = this.lunOf(volumeId, info);
    const target = targetUrl(lun);
    const existing = await this.live(volumeId);
    if (existing !== undefined) {
      if (existing.target !== target) throw new DriverError('CONFLICT', { op: 'connect', target: volumeId, detail: `the volume is connected from ${existing.target}` });
      return this.connected(existing);
    }
    await mkdir(this.exports, { recursive: true, mode: 0o700 });
    const files = this.files(volumeId);
    await writeFile(files.mountpoint, '', { mode: 0o600 });
    try {
      const pid = await storageDaemon.start('connect', lun, files, options.signal);
      const record: ConnectionRecord = { volumeId, path: files.mountpoint, target, pid };
      await this.records.put(record);
      return await this.connected(record);
    } catch (error) {
      // Nothing stays connected after a failed connect: a daemon that started goes (its pid file says which).
      const pid = Number(await readFile(files.pidfile, 'utf8').catch(() => ''));
      if (pid > 1) await stopDaemon(pid, files.mountpoint).catch(() => undefined);
      await this.removeFiles(volumeId);
      await this.records.remove(volumeId).catch(() => undefined);
      throw error;
    }
  }

  async disconnect(volumeId: string): Promise<void> {
    const record = await this.live(volumeId);
    if (record?.pid !== undefined) await stopDaemon(record.pid, record.path);
    await this.removeFiles(volumeId);
    await this.records.remove(volumeId);
  }

  async extend(volumeId: string, info: ConnectionInfo, options: PlugCallOptions = {}): Promise<ConnectedVolume> {
    const record = await this.live(volumeId);
    if (record === undefined) throw new DriverError('VOLUME_NOT_ATTACHED', { op: 'extend', target: volumeId, detail: 'the volume is not connected on this host' });
    const size = await storageDaemon.lunSize('extend', this.lunOf(volumeId, info), options.signal);
    // The initiator reads the new capacity when asked to resize to it (it refuses any other size). The
    // exported file shows it at once to a new open, but a stat may answer FUSE's cached size for up to a
    // second: answer the size the daemon now has.
    await storageDaemon.qmp('extend', this.files(volumeId).qmp, 'block_resize', { 'node-name': 'volume', size });
    return { volumeId: record.volumeId, kind: 'file', path: record.path, sizeBytes: size };
  }

  async listConnected(): Promise<ConnectedVolume[]> {
    const out: ConnectedVolume[] = [];
    for (const r of await this.records.all()) {
      if (r.pid !== undefined && (await daemonServes(r.pid, r.path))) out.push(await this.connected(r));
    }
    return out;
  }

  private lunOf(volumeId: string, info: ConnectionInfo): IscsiLun {
    if (info.driverVolumeType !== 'iscsi') throw new DriverError('INTERNAL', { detail: `a ${info.driverVolumeType} connection reached the iSCSI connector` });
    if (!this.options.portals.includes(info.targetPortal)) {
      throw new DriverError('INVALID_INPUT', {
        target: volumeId,
        issues: [{ path: ['connectionInfo', 'targetPortal'], message: `is not a portal this host may reach (${this.options.portals.join(', ')})` }],
      });
    }
    return { portal: info.targetPortal, iqn: info.targetIqn, lun: info.targetLun, initiatorName: this.initiatorName };
  }

  /** Per volume: the exported file, the daemon's QMP socket and pid file, named by the canonical volume uuid. */
  private files(volumeId: string): { mountpoint: string; qmp: string; pidfile: string } {
    const base = join(this.exports, volumeId.toLowerCase());
    return { mountpoint: `${base}.img`, qmp: `${base}.qmp`, pidfile: `${base}.pid` };
  }

  private async removeFiles(volumeId: string): Promise<void> {
    for (const f of Object.values(this.files(volumeId))) await rm(f, { force: true });
  }

  /** The volume's record while its daemon still serves its file; a stale record (daemon gone) is dropped with its files. */
  private async live(volumeId: string): Promise<ConnectionRecord | undefined> {
    const record = await this.records.get(volumeId);
    if (record === undefined) return undefined;
    if (record.pid !== undefined && (await daemonServes(record.pid, record.path))) return record;
    await this.removeFiles(volumeId);
    await this.records.remove(volumeId);
    return undefined;
  }

  private async connected(record: ConnectionRecord): Promise<ConnectedVolume> {
    const info = await stat(record.path);
    return { volumeId: record.volumeId, kind: 'file', path: record.path, sizeBytes: info.size };
  }
}

const targetUrl = (lun: IscsiLun): string => `iscsi://${lun.portal}/${lun.iqn}/${lun.lun}`;

/** Whether `pid` is a live qemu-storage-daemon (not a zombie) serving `mountpoint`, and the FUSE mount is there. */
async function daemonServes(pid: number, mountpoint: string): Promise<boolean> {
  if (!(await running(pid))) return false;
  try {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    if (!argv[0]!.endsWith('qemu-storage-daemon') || !argv.some((a) => a.includes(JSON.stringify(mountpoint)))) return false;
  } catch {
    return false;
  }
  return isMounted(mountpoint);
}

async function isMounted(path: string): Promise<boolean> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  // Field 5 is the mount point, with space, tab, newline and backslash written as octal escapes.
  return text.split('\n').some((line) => line.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))) === path);
}

/**
 * Stop the daemon serving `mountpoint` (only while it still is that daemon) and wait until it has
 * left (logged out, export unmounted). A daemon still there after 5 s (measured: one whose target went
 * away mid-session can keep retrying) is killed, and a FUSE mount a killed daemon leaves is detached.
 */
async function stopDaemon(pid: number, mountpoint: string): Promise<void> {
  if (!(await daemonServes(pid, mountpoint))) return;
  process.kill(pid, 'SIGTERM');
  if (!(await within(5_000, async () => !(await running(pid))))) {
    process.kill(pid, 'SIGKILL');
    await within(5_000, async () => !(await running(pid)));
  }
  if (await isMounted(mountpoint)) await mustRun('disconnect', 'umount', ['--lazy', '--', mountpoint]);
  if (!(await within(5_000, async () => !(await isMounted(mountpoint))))) {
    throw new DriverError('INTERNAL', { op: 'disconnect', detail: `the export of qemu-storage-daemon ${pid} at ${mountpoint} is still mounted` });
  }
}

/** Whether `pid` exists and is not a zombie (this host's PID 1 reaps slowly). */
async function running(pid: number): Promise<boolean> {
  try {
    const statLine = await readFile(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(statLine.slice(statLine.lastIndexOf(')') + 2, statLine.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

async function within(ms: number, done: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
