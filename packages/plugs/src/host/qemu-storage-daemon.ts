import { createConnection } from 'node:net';
import { readFile } from 'node:fs/promises';
import { DriverError } from '@nova-common/core';
import { mustRun, runCommand } from './run-command.js';

/** An iSCSI LUN as QEMU's user-space initiator (libiscsi, `qemu-block-extra`) opens it. */
export interface IscsiLun {
  portal: string;
  iqn: string;
  lun: number;
  initiatorName: string;
}

/** The LUN as a QEMU block node (JSON: no value is ever read as QEMU's key=value syntax). */
const blockdev = (lun: IscsiLun, nodeName?: string): Record<string, unknown> => ({
  driver: 'iscsi',
  ...(nodeName === undefined ? {} : { 'node-name': nodeName }),
  transport: 'tcp',
  portal: lun.portal,
  target: lun.iqn,
  lun: lun.lun,
  'initiator-name': lun.initiatorName,
});

/** QEMU's key=value syntax doubles a comma inside a value. */
const keyvalValue = (v: string): string => v.replace(/,/g, ',,');

/**
 * qemu-storage-daemon: one daemon per connected LUN logs in to the target with libiscsi and
 * exports the LUN as a regular file through FUSE (`--export type=fuse`), so the host has a path
 * without a kernel iSCSI initiator. The daemon outlives the connector's process (the guest keeps
 * using the file) and answers QMP on a unix socket.
 */
export const storageDaemon = {
  /** Start a daemon exporting `lun` at `mountpoint` (an existing regular file); it is ready (logged in, mounted) when this returns. */
  async start(op: string, lun: IscsiLun, files: { mountpoint: string; qmp: string; pidfile: string }, signal?: AbortSignal): Promise<number> {
    await mustRun(op, 'qemu-storage-daemon', [
      '--daemonize',
      '--pidfile', files.pidfile,
      '--blockdev', JSON.stringify(blockdev(lun, 'volume')),
      '--export', JSON.stringify({ type: 'fuse', id: 'volume', 'node-name': 'volume', mountpoint: files.mountpoint, writable: true }),
      '--chardev', `socket,id=qmp,path=${keyvalValue(files.qmp)},server=on,wait=off`,
      '--monitor', 'chardev=qmp',
    ], signal);
    const pid = Number((await readFile(files.pidfile, 'utf8')).trim());
    if (!Number.isInteger(pid) || pid <= 1) throw new DriverError('INTERNAL', { op, detail: `qemu-storage-daemon wrote pid ${pid}` });
    return pid;
  },

  /** The LUN's size as the target now reports it (a new, short session). */
  async lunSize(op: string, lun: IscsiLun, signal?: AbortSignal): Promise<number> {
    const r = await runCommand(op, 'qemu-img', ['info', '--output=json', `json:${JSON.stringify(blockdev(lun))}`], signal);
    if (!r.ok) throw new DriverError('BACKEND_UNAVAILABLE', { op, detail: `qemu-img info of ${lun.iqn} lun ${lun.lun} on ${lun.portal} failed: ${r.stderr}` });
    const size = (JSON.parse(r.stdout) as { 'virtual-size'?: unknown })['virtual-size'];
    if (typeof size !== 'number') throw new DriverError('INTERNAL', { op, detail: 'qemu-img info answered no virtual-size' });
    return size;
  },

  /** One QMP command on a daemon's socket; answers its `return`. */
  qmp(op: string, socket: string, execute: string, args: Record<string, unknown>, timeoutMs = 10_000): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const conn = createConnection(socket);
      const fail = (detail: string): void => {
        conn.destroy();
        reject(new DriverError('INTERNAL', { op, detail: `QMP ${execute} on ${socket}: ${detail}` }));
      };
      const timer = setTimeout(() => fail('no answer'), timeoutMs);
      let buffer = '';
      let step = 0;
      conn.on('error', (e) => {
        clearTimeout(timer);
        fail(e.message);
      });
      conn.on('data', (chunk) => {
        buffer += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line === '') continue;
          const msg = JSON.parse(line) as { QMP?: unknown; return?: unknown; error?: { desc?: string }; event?: string };
          if (msg.event !== undefined) continue;
          if (msg.error !== undefined) {
            clearTimeout(timer);
            return fail(msg.error.desc ?? 'error');
          }
          if (step === 0 && msg.QMP !== undefined) conn.write(`${JSON.stringify({ execute: 'qmp_capabilities' })}\n`);
          else if (step === 1) conn.write(`${JSON.stringify({ execute, arguments: args })}\n`);
          else if (step === 2) {
            clearTimeout(timer);
            conn.end();
            return resolve(msg.return);
          }
          step++;
        }
      });
    });
  },
};
