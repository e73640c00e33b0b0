// plug+unplug of 100 VIFs and connect+disconnect of 100 loop volumes through the plugs,
// against the same `ip` / `losetup` commands run directly, side by side in one run.
// Goal: the plugs cost at most 1.2x the bare commands. Needs root (namespaces, loop devices).
// ROUNDS rounds, alternating which side goes first, so a change in the machine's load hits both
// sides alike; the ratio printed is the median of the rounds' ratios.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLinuxBridgeTapPlugin, createLoopConnector } from '../src/index.js';

const N = 100;
const ROUNDS = 5;

/** Run both sides ROUNDS times, alternating which goes first; the medians and the median of the per-round ratios. */
async function sideBySide(bare: () => Promise<number>, plug: () => Promise<number>): Promise<{ bare: number; plug: number; ratio: number }> {
  const bares: number[] = [];
  const plugs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      bares.push(await bare());
      plugs.push(await plug());
    } else {
      plugs.push(await plug());
      bares.push(await bare());
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { bare: median(bares), plug: median(plugs), ratio: median(bares.map((b, i) => plugs[i]! / b)) };
}
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
    const vifs = await sideBySide(
      () =>
        timed(() => {
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
        }),
      () =>
        timed(async () => {
          for (let i = 0; i < N; i++) await plugin.plug(vif(i), inst);
          for (let i = 0; i < N; i++) await plugin.unplug(vif(i), inst);
        }),
    );
    console.log(
      `VIF plug+unplug x${N}, ${ROUNDS} rounds: plugin ${(vifs.plug / N).toFixed(2)} ms/port, ip by hand ${(vifs.bare / N).toFixed(2)} ms/port (medians), ratio ${vifs.ratio.toFixed(2)}x (goal <= 1.2x)`,
    );

    const files = Array.from({ length: N }, (_, i) => {
      const p = join(dir, `v${i}.img`);
      writeFileSync(p, '');
      truncateSync(p, 1024 * 1024);
      return p;
    });
    const connector = createLoopConnector({ roots: [dir], stateDir: join(dir, 'state') });
    const id = (i: number) => `${hex(i)}bbbb-1111-4222-8333-444455556666`;
    const volumes = await sideBySide(
      () =>
        timed(() => {
          const devices = files.map((f) => run('losetup', ['--find', '--show', '--', f]).trim());
          for (const d of devices) run('losetup', ['--detach', d]);
        }),
      () =>
        timed(async () => {
          for (let i = 0; i < N; i++) await connector.connect(id(i), { driverVolumeType: 'file', path: files[i]! });
          for (let i = 0; i < N; i++) await connector.disconnect(id(i), { driverVolumeType: 'file', path: files[i]! });
        }),
    );
    console.log(
      `loop connect+disconnect x${N}, ${ROUNDS} rounds: connector ${(volumes.plug / N).toFixed(2)} ms/volume, losetup by hand ${(volumes.bare / N).toFixed(2)} ms/volume (medians), ratio ${volumes.ratio.toFixed(2)}x (goal <= 1.2x)`,
    );
  } finally {
    run('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
