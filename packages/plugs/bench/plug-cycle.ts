// plug+unplug of 100 VIFs and connect+disconnect of 100 loop volumes through the plugs,
// against the same `ip` / `losetup` commands run directly, side by side in one run.
// Goal: the plugs cost at most 1.2x the bare commands. Needs root (namespaces, loop devices).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLinuxBridgeTapPlugin, createLoopConnector } from '../src/index.js';

const N = 100;
const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });
const hex = (i: number): string => i.toString(16).padStart(4, '0');

async function timed(fn: () => Promise<void> | void): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main(): Promise<void> {
  const ns = `nc-bench-${process.pid}`;
  run('ip', ['netns', 'add', ns]);
  const dir = mkdtempSync(join(tmpdir(), 'nc-bench-vol-'));
  try {
    const vif = (i: number) => ({ id: `${hex(i)}aaaa-1111-4222-8333-444455556666`, address: `fa:16:3e:00:${hex(i).slice(0, 2)}:${hex(i).slice(2)}`, network: { id: 'bench', bridge: 'ncbr-bench' } });
    const inst = { uuid: '0b7e4d2a-5c1f-4a3e-9d8b-6f2a1c0e9d01' };
    const plugin = createLinuxBridgeTapPlugin({ netns: ns });
    const byHand = await timed(() => {
      run('ip', ['-n', ns, 'link', 'add', 'name', 'ncbr-hand', 'type', 'bridge']);
      for (let i = 0; i < N; i++) {
        const dev = `taph${hex(i)}`;
        run('ip', ['-n', ns, 'tuntap', 'add', 'dev', dev, 'mode', 'tap']);
        run('ip', ['-n', ns, 'link', 'set', 'dev', dev, 'alias', `bench:${i}`]);
        run('ip', ['-n', ns, 'link', 'set', 'dev', dev, 'up']);
        run('ip', ['-n', ns, 'link', 'set', 'dev', dev, 'master', 'ncbr-hand']);
      }
      for (let i = 0; i < N; i++) run('ip', ['-n', ns, 'link', 'del', 'dev', `taph${hex(i)}`]);
      run('ip', ['-n', ns, 'link', 'del', 'dev', 'ncbr-hand']);
    });
    const viaPlugin = await timed(async () => {
      for (let i = 0; i < N; i++) await plugin.plug(vif(i), inst);
      for (let i = 0; i < N; i++) await plugin.unplug(vif(i), inst);
    });
    console.log(`VIF plug+unplug x${N}: plugin ${(viaPlugin / N).toFixed(2)} ms/port, ip by hand ${(byHand / N).toFixed(2)} ms/port, ratio ${(viaPlugin / byHand).toFixed(2)}x (goal <= 1.2x)`);

    const files = Array.from({ length: N }, (_, i) => {
      const p = join(dir, `v${i}.img`);
      writeFileSync(p, '');
      truncateSync(p, 1024 * 1024);
      return p;
    });
    const connector = createLoopConnector({ roots: [dir], stateDir: join(dir, 'state') });
    const losetupByHand = await timed(() => {
      const devices = files.map((f) => run('losetup', ['--find', '--show', '--', f]).trim());
      for (const d of devices) run('losetup', ['--detach', d]);
    });
    const viaConnector = await timed(async () => {
      const id = (i: number) => `${hex(i)}bbbb-1111-4222-8333-444455556666`;
      for (let i = 0; i < N; i++) await connector.connect(id(i), { driverVolumeType: 'file', path: files[i]! });
      for (let i = 0; i < N; i++) await connector.disconnect(id(i), { driverVolumeType: 'file', path: files[i]! });
    });
    console.log(`loop connect+disconnect x${N}: connector ${(viaConnector / N).toFixed(2)} ms/volume, losetup by hand ${(losetupByHand / N).toFixed(2)} ms/volume, ratio ${(viaConnector / losetupByHand).toFixed(2)}x (goal <= 1.2x)`);
  } finally {
    run('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
