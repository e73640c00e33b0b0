/**
 * `pnpm bench`: one instance cycle (define, start, get state, destroy, undefine) on libvirt's
 * test driver through libvirtd, measured side by side in one run three ways:
 *   - virsh subprocesses (one per step, each with a timeout),
 *   - this driver (spawn, getInfo, destroy),
 *   - the bare protocol (the same five libvirt calls on a raw connection, nothing else).
 * Prints the ratios: goal virsh/driver >= 20x, driver/bare <= 1.5x.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { guard, type InstanceSpecInput } from '@nova-common/core';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { createLibvirtDriver } from '../src/driver.js';

const run = promisify(execFile);
const SOCKET = process.env['LIBVIRT_SOCKET'] ?? '/run/libvirt/libvirt-sock';
const VIRSH_CYCLES = Number(process.env['BENCH_VIRSH_CYCLES'] ?? 15);
const CYCLES = Number(process.env['BENCH_CYCLES'] ?? 300);

const domXml = (name: string, uuid: string) =>
  `<domain type='test'><name>${name}</name><uuid>${uuid}</uuid><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`;

async function virsh(...args: string[]): Promise<void> {
  await run('virsh', ['-q', '-c', 'test+unix:///default', ...args], { timeout: 10_000 });
}

function ms(ns: bigint): number {
  return Number(ns) / 1e6;
}

async function time(fn: () => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return ms(process.hrtime.bigint() - t0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const keeper = new LibvirtClient({ socketPath: SOCKET, uri: 'test:///default', keepaliveIntervalMs: 0 });
  try {
    await keeper.connect();
  } catch (err) {
    throw new Error(`libvirtd is not reachable at ${SOCKET}: run scripts/backends/libvirt.sh start (${(err as Error).message})`);
  }
  const driver = createLibvirtDriver({ uri: 'test:///default', socketPath: SOCKET, keepaliveIntervalMs: 0 });
  await driver.initHost();
  const bare = new LibvirtClient({ socketPath: SOCKET, uri: 'test:///default', keepaliveIntervalMs: 0 });
  await bare.connect();
  const dir = mkdtempSync(join(tmpdir(), 'nova-bench-'));

  const virshCycles: number[] = [];
  const driverCycles: number[] = [];
  const bareCycles: number[] = [];
  const guardedCycles: number[] = [];
  const guarded = guard(createLibvirtDriver({ uri: 'test:///default', socketPath: SOCKET, keepaliveIntervalMs: 0 }));
  await guarded.initHost();
  await guarded.getCapabilities();
  const op = { spawn: [] as number[], getInfo: [] as number[], destroy: [] as number[], bareDefineStart: [] as number[], bareState: [] as number[], bareDestroyUndefine: [] as number[] };

  const spec = (uuid: string): InstanceSpecInput => ({
    uuid,
    name: 'bench',
    flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 1 },
    image: { id: 'img', diskFormat: 'raw', containerFormat: 'bare' },
  });

  // Warm up every path once.
  for (let i = 0; i < 20; i++) {
    const u = randomUUID();
    await driver.spawn(spec(u) as never);
    await driver.getInfo(u);
    await driver.destroy(u);
  }

  // Interleave the three ways so they see the same machine state.
  for (let i = 0; i < CYCLES; i++) {
    if (i < VIRSH_CYCLES) {
      const u = randomUUID();
      const file = join(dir, `${u}.xml`);
      writeFileSync(file, domXml(`virsh-${u}`, u));
      virshCycles.push(
        await time(async () => {
          await virsh('define', file);
          await virsh('start', `virsh-${u}`);
          await virsh('domstate', `virsh-${u}`);
          await virsh('destroy', `virsh-${u}`);
          await virsh('undefine', `virsh-${u}`);
        }),
      );
    }
    {
      const u = randomUUID();
      let a = 0;
      let b = 0;
      let c = 0;
      driverCycles.push(
        await time(async () => {
          a = await time(() => driver.spawn(spec(u) as never));
          b = await time(async () => void (await driver.getInfo(u)));
          c = await time(() => driver.destroy(u));
        }),
      );
      op.spawn.push(a);
      op.getInfo.push(b);
      op.destroy.push(c);
    }
    {
      const u = randomUUID();
      guardedCycles.push(
        await time(async () => {
          await guarded.spawn(spec(u));
          await guarded.getInfo(u);
          await guarded.destroy(u);
        }),
      );
    }
    {
      const u = randomUUID();
      let a = 0;
      let b = 0;
      let c = 0;
      bareCycles.push(
        await time(async () => {
          let ref = LibvirtClient.ref(`bare-${u}`, u);
          a = await time(async () => {
            ref = await bare.defineXml(domXml(`bare-${u}`, u));
            await bare.create(ref);
          });
          b = await time(async () => void (await bare.getState(ref)));
          c = await time(async () => {
            await bare.destroy(ref);
            await bare.undefine(ref);
          });
        }),
      );
      op.bareDefineStart.push(a);
      op.bareState.push(b);
      op.bareDestroyUndefine.push(c);
    }
  }

  const v = median(virshCycles);
  const d = median(driverCycles);
  const r = median(bareCycles);
  const line = (label: string, value: number) => console.log(`${label.padEnd(46)} ${value.toFixed(3).padStart(9)} ms`);
  console.log(`libvirt test driver via libvirtd, median of ${CYCLES} cycles (virsh: ${VIRSH_CYCLES})`);
  line('cycle through virsh subprocesses', v);
  line('cycle through this driver', d);
  line('cycle on the bare protocol', r);
  console.log(`virsh / driver: ${(v / d).toFixed(1)}x faster (goal >= 20x)`);
  console.log(`driver / bare protocol: ${(d / r).toFixed(2)}x (goal <= 1.5x)`);
  console.log('per operation (driver vs the same work on the bare protocol):');
  line('  spawn (lookup, define, start, mark ready)', median(op.spawn));
  line('  bare define + start', median(op.bareDefineStart));
  line('  getInfo (state + live XML, pipelined)', median(op.getInfo));
  line('  bare get state', median(op.bareState));
  line('  destroy (state + XML check, destroy, undefine)', median(op.destroy));
  line('  bare destroy + undefine', median(op.bareDestroyUndefine));
  const g = median(guardedCycles);
  console.log('the guard on a real backend (spawn, getInfo, destroy through guard(driver) vs the driver directly):');
  line('  cycle through guard(driver)', g);
  console.log(`  guard overhead: ${(((g - d) / d) * 100).toFixed(1)}% (goal < 10%)`);

  rmSync(dir, { recursive: true, force: true });
  await driver.cleanupHost();
  await guarded.cleanupHost();
  await bare.close();
  await keeper.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
