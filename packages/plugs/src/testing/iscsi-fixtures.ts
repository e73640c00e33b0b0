import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionInfoInput } from '@nova-common/core/plugs';
import { sh } from './host-fixtures.js';

/**
 * A user-space iSCSI target of the test's own (Debian's `tgt`): a tgtd child of this process on
 * 127.0.0.1 and a port of its own, with its own management channel, serving volume files from a
 * directory; and the volume suite's fixtures on it. Only loopback is ever used.
 */
export async function startIscsiTarget(dirs: { root: string; outside: string }): Promise<{
  portal: string;
  fixtures: ReturnType<typeof iscsiFixtures>;
  stop(): Promise<void>;
}> {
  // Distinct per test process: a management channel (tgtd -C) and an iSCSI port.
  const control = 100 + (process.pid % 800);
  const port = 20000 + (process.pid % 10000);
  const portal = `127.0.0.1:${port}`;
  const tgtd: ChildProcess = spawn('tgtd', ['-f', '-C', String(control), '--iscsi', `portal=${portal}`], { stdio: 'ignore' });
  tgtd.on('error', () => undefined);
  // tgtd leaves on `tgtadm --op delete --mode system` once it has no target (it ignores SIGTERM); SIGKILL is the fallback.
  const stopTarget = (): Promise<void> => new Promise((resolve) => {
    if (tgtd.exitCode !== null || tgtd.signalCode !== null) return resolve();
    const killer = setTimeout(() => tgtd.kill('SIGKILL'), 5_000);
    tgtd.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    try {
      const tids = [...tgtadm(control, ['--op', 'show', '--mode', 'target']).matchAll(/^Target (\d+):/gm)].map((m) => m[1]!);
      for (const tid of tids) tgtadm(control, ['--op', 'delete', '--mode', 'target', '--tid', tid, '--force']);
      tgtadm(control, ['--op', 'delete', '--mode', 'system']);
    } catch {
      tgtd.kill('SIGKILL');
    }
  });
  // A failed test may leave daemons serving this target: they go first (their FUSE mounts with them), then tgtd.
  const stop = async (): Promise<void> => {
    for (const pid of daemonsOf(portal)) process.kill(pid, 'SIGTERM');
    const until = Date.now() + 10_000;
    while ((mountsUnder(join(dirs.root, '..')).length > 0 || daemonsOf(portal).length > 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await stopTarget();
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      tgtadm(control, ['--op', 'show', '--mode', 'sys']);
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        await stop();
        throw error;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { portal, fixtures: iscsiFixtures(control, portal, dirs), stop };
}

const tgtadm = (control: number, args: string[]): string => execFileSync('tgtadm', ['-C', String(control), '--lld', 'iscsi', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function iscsiFixtures(control: number, portal: string, dirs: { root: string; outside: string }) {
  mkdirSync(dirs.root, { recursive: true });
  mkdirSync(dirs.outside, { recursive: true });
  const tgt = (args: string[]): string => tgtadm(control, args);
  const iqnOf = (hex: string): string => `iqn.2026-12.org.nova-common.test:volume-${hex}`;
  const addLun = (tid: string, path: string): void => {
    tgt(['--op', 'new', '--mode', 'logicalunit', '--tid', tid, '--lun', '1', '--backing-store', path]);
  };
  const tidOf = (info: ConnectionInfoInput): string => {
    if (info.driverVolumeType !== 'iscsi') throw new Error('iSCSI volumes only');
    return String(parseInt(info.targetIqn.slice(-2), 16) + 1);
  };
  /** The daemons that could serve this test's target, and mounts under this test's directories (state directory included). */
  const witness = async (): Promise<string[]> => {
    const mounts = mountsUnder(join(dirs.root, '..'));
    const daemons = daemonsOf(portal).map((pid) => `qemu-storage-daemon ${pid}`);
    return [...mounts.map((m) => `mount ${m}`), ...daemons];
  };
  return {
    async makeVolume(i: number, sizeBytes: number) {
      const hex = i.toString(16).padStart(2, '0');
      const volumeId = `9c3e5a7b-1f2d-4c6e-8a0b-2d4f6a8c0e${hex}`;
      const path = join(dirs.root, `lun-${hex}.img`);
      const tid = String(i + 1);
      // A volume made again (a later property) is a fresh target on a fresh file.
      try {
        tgt(['--op', 'delete', '--mode', 'target', '--tid', tid, '--force']);
      } catch {
        // no such target yet
      }
      writeFileSync(path, '');
      truncateSync(path, sizeBytes);
      tgt(['--op', 'new', '--mode', 'target', '--tid', tid, '--targetname', iqnOf(hex)]);
      addLun(tid, path);
      tgt(['--op', 'bind', '--mode', 'target', '--tid', tid, '--initiator-address', '127.0.0.1']);
      return { volumeId, connectionInfo: { driverVolumeType: 'iscsi', targetPortal: portal, targetIqn: iqnOf(hex), targetLun: 1 } as ConnectionInfoInput };
    },
    /** What a volume service does: grow the file, and have tgt read its size again (a LUN's size is read when it is added). */
    async growVolume(info: ConnectionInfoInput, sizeBytes: number) {
      const tid = tidOf(info);
      const path = join(dirs.root, `lun-${(Number(tid) - 1).toString(16).padStart(2, '0')}.img`);
      truncateSync(path, sizeBytes);
      tgt(['--op', 'delete', '--mode', 'logicalunit', '--tid', tid, '--lun', '1']);
      addLun(tid, path);
    },
    /** A portal the connector may not reach (never contacted: refused before any connection). */
    async outsideRoots(): Promise<ConnectionInfoInput> {
      return { driverVolumeType: 'iscsi', targetPortal: '127.0.0.1:1', targetIqn: iqnOf('ff'), targetLun: 1 };
    },
    witness,
    /** The target goes away under a connected initiator (tgt ends its sessions). */
    async dropTarget(info: ConnectionInfoInput) {
      tgt(['--op', 'delete', '--mode', 'target', '--tid', tidOf(info), '--force']);
    },
    /** An operator's own initiator on the same LUN: another qemu-storage-daemon exporting it under the outside directory. */
    async foreignUse(info: ConnectionInfoInput) {
      if (info.driverVolumeType !== 'iscsi') throw new Error('iSCSI volumes only');
      const mountpoint = join(dirs.outside, `foreign-${tidOf(info)}.img`);
      const pidfile = `${mountpoint}.pid`;
      writeFileSync(mountpoint, '');
      sh('qemu-storage-daemon', [
        '--daemonize', '--pidfile', pidfile,
        '--blockdev', JSON.stringify({ driver: 'iscsi', 'node-name': 'foreign', transport: 'tcp', portal: info.targetPortal, target: info.targetIqn, lun: info.targetLun, 'initiator-name': 'iqn.2026-12.org.nova-common.test:operator' }),
        '--export', JSON.stringify({ type: 'fuse', id: 'foreign', 'node-name': 'foreign', mountpoint, writable: false }),
      ]);
      const pid = Number(readFileSync(pidfile, 'utf8').trim());
      return async () => {
        process.kill(pid, 'SIGTERM');
        const until = Date.now() + 10_000;
        while ((mountsUnder(dirs.outside).includes(mountpoint) || daemonsOf(portal).includes(pid)) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        rmSync(mountpoint, { force: true });
        rmSync(pidfile, { force: true });
      };
    },
  };
}

const mountsUnder = (base: string): string[] =>
  readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(`${base}/`));

/** The live (not zombie) qemu-storage-daemon processes whose command line names `portal`. */
function daemonsOf(portal: string): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3))) return [];
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      return argv[0]!.endsWith('qemu-storage-daemon') && argv.some((a) => a.includes(`"${portal}"`)) ? [Number(d)] : [];
    } catch {
      return [];
    }
  });
}
