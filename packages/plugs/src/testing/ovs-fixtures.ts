import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh } from './host-fixtures.js';

const SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

/**
 * An Open vSwitch of the test's own: an ovsdb-server on a database in a temporary directory and
 * an ovs-vswitchd inside the test's network namespace (so its bridges and taps live there, next
 * to the plugin's), both children of this process (reaped by it, never left to the host's PID 1).
 * Needs Debian's `openvswitch-switch`; no kernel module (bridges use the user-space datapath).
 */
export async function startOvs(netns: string): Promise<{ db: string; vsctl(args: string[]): string; ports(): string[]; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'nc-plug-ovs-'));
  const socket = join(dir, 'db.sock');
  const db = `unix:${socket}`;
  sh('ovsdb-tool', ['create', join(dir, 'conf.db'), SCHEMA]);
  const children: ChildProcess[] = [];
  const start = (cmd: string, args: string[]): void => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.on('error', () => undefined);
    children.push(child);
  };
  const stop = async (): Promise<void> => {
    await Promise.all(children.reverse().map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    })));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    start('ovsdb-server', [join(dir, 'conf.db'), `--remote=punix:${socket}`, `--unixctl=${join(dir, 'ovsdb-server.ctl')}`, '--no-chdir', '-vconsole:off', `--log-file=${join(dir, 'ovsdb-server.log')}`]);
    await until(() => existsSync(socket), 'ovsdb-server to listen');
    sh('ovs-vsctl', [`--db=${db}`, '--no-wait', 'init']);
    start('ip', ['netns', 'exec', netns, 'ovs-vswitchd', db, `--unixctl=${join(dir, 'ovs-vswitchd.ctl')}`, '--no-chdir', '-vconsole:off', `--log-file=${join(dir, 'ovs-vswitchd.log')}`]);
    // ovs-vswitchd is up once it has applied the configuration (`ovs-vsctl` without --no-wait returns then).
    sh('ovs-vsctl', [`--db=${db}`, '--timeout=20', 'set', 'Open_vSwitch', '.', 'external_ids:nova-common-test=1']);
  } catch (error) {
    await stop();
    throw error;
  }
  const vsctl = (args: string[]): string => sh('ovs-vsctl', [`--db=${db}`, '--timeout=10', ...args]);
  return {
    db,
    vsctl,
    /** Every port on every bridge of this Open vSwitch, as `bridge/port`. */
    ports: () => vsctl(['list-br']).split('\n').filter((b) => b !== '').flatMap((b) => vsctl(['list-ports', b]).split('\n').filter((p) => p !== '').map((p) => `${b}/${p}`)),
    stop,
  };
}

async function until(ok: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
