/**
 * `pnpm bench`: one instance cycle (define, start, get state, destroy, undefine) on libvirt's
 * test driver through libvirtd, measured side by side in one run, interleaved:
 *   - virsh subprocesses (one per step, each with a timeout),
 *   - this driver (spawn, getInfo, destroy), given what the guard would give it (parsed specs),
 *   - this driver behind the guard (what every consumer calls),
 *   - the bare protocol (the same five libvirt calls on a raw connection, nothing else),
 *   - the bare protocol again with the driver's own domain XML (metadata and all), which tells
 *     what libvirt spends on the bigger XML apart from what the driver adds in calls.
 * Prints the ratios next to their goals (virsh/driver >= 20x, driver/bare <= 1.5x, guard
 * overhead < 10%) and the libvirt calls each operation makes next to the bare baseline.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { guard, InstanceSpecSchema, type InstanceSpec, type InstanceSpecInput } from '@nova-common/core';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { buildDomainXml, instanceDomainName } from '../src/mapping/domain-xml.js';
import type { InstanceRecord } from '../src/mapping/instance-record.js';

const run = promisify(execFile);
const SOCKET = process.env['LIBVIRT_SOCKET'] ?? '/run/libvirt/libvirt-sock';
const VIRSH_CYCLES = Number(process.env['BENCH_VIRSH_CYCLES'] ?? 15);
const CYCLES = Number(process.env['BENCH_CYCLES'] ?? 300);

const domXml = (name: string, uuid: string) =>
  `<domain type='test'><name>${name}</name><uuid>${uuid}</uuid><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`;

async function virsh(...args: string[]): Promise<void> {
  await run('virsh', ['-q', '-c', 'test+unix:///default', ...args], { timeout: 10_000 });
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const specInput = (uuid: string): InstanceSpecInput => ({
  uuid,
  name: 'bench',
  flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 1 },
  image: { id: 'img', diskFormat: 'raw', containerFormat: 'bare' },
});

/** The XML this driver defines for the bench's spec. */
function driverXml(uuid: string): string {
  const record: InstanceRecord = {
    uuid,
    ownerPrefix: 'bare-',
    session: '00000000-0000-4000-8000-000000000000',
    since: new Date().toISOString(),
    mode: 'normal',
    name: 'bench',
    flavor: { id: 'f', name: 'f', vcpus: 1, memoryMb: 64, rootGb: 1, ephemeralGb: 0, swapMb: 0, extraSpecs: {} },
    image: { id: 'img', diskFormat: 'raw', containerFormat: 'bare', diskBus: 'virtio', vifModel: 'virtio' },
    metadata: {},
    localDisks: [],
    volumes: [],
    interfaces: [],
  };
  return buildDomainXml(record, { domainType: 'test', domainName: instanceDomainName('bare-', uuid, '00000000'), instanceDir: '/nonexistent', consoleLog: false });
}

/** Milliseconds and libvirt calls of each step of one cycle. */
class Steps {
  readonly ms = new Map<string, number[]>();
  readonly calls = new Map<string, number[]>();

  async step(name: string, client: LibvirtClient, fn: () => Promise<unknown>): Promise<void> {
    const before = client.callCount;
    const t = await time(fn);
    (this.ms.get(name) ?? this.ms.set(name, []).get(name)!).push(t);
    (this.calls.get(name) ?? this.calls.set(name, []).get(name)!).push(client.callCount - before);
  }

  total(): number[] {
    const columns = [...this.ms.values()];
    return columns[0]!.map((_, i) => columns.reduce((sum, c) => sum + c[i]!, 0));
  }
}

async function main(): Promise<void> {
  const keeper = new LibvirtClient({ socketPath: SOCKET, uri: 'test:///default', keepaliveIntervalMs: 0 });
  try {
    await keeper.connect();
  } catch (err) {
    throw new Error(`libvirtd is not reachable at ${SOCKET}: run scripts/backends/libvirt.sh start (${(err as Error).message})`);
  }
  const options = { uri: 'test:///default', socketPath: SOCKET, keepaliveIntervalMs: 0 };
  const driver = createLibvirtDriver(options);
  await driver.initHost();
  const guardedRaw = createLibvirtDriver(options);
  const guarded = guard(guardedRaw);
  await guarded.initHost();
  await guarded.getCapabilities();
  const bare = new LibvirtClient({ socketPath: SOCKET, uri: 'test:///default', keepaliveIntervalMs: 0 });
  await bare.connect();
  const dir = mkdtempSync(join(tmpdir(), 'nova-bench-'));
  // What the guard hands the driver: the parsed spec (defaults applied, lower-case uuid).
  const parsed = (uuid: string): InstanceSpec => InstanceSpecSchema.parse(specInput(uuid));

  // Warm up every path.
  for (let i = 0; i < 20; i++) {
    const u = randomUUID();
    await driver.spawn(parsed(u));
    await driver.getInfo(u);
    await driver.destroy(u);
    const g = randomUUID();
    await guarded.spawn(specInput(g));
    await guarded.getInfo(g);
    await guarded.destroy(g);
  }

  const virshCycles: number[] = [];
  const ours = new Steps();
  const behindGuard = new Steps();
  const raw = new Steps();
  const rawWithDriverXml = new Steps();
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
      const spec = parsed(u);
      await ours.step('spawn', driver.libvirt, () => driver.spawn(spec));
      await ours.step('getInfo', driver.libvirt, () => driver.getInfo(u));
      await ours.step('destroy', driver.libvirt, () => driver.destroy(u));
    }
    {
      const u = randomUUID();
      await behindGuard.step('spawn', guardedRaw.libvirt, () => guarded.spawn(specInput(u)));
      await behindGuard.step('getInfo', guardedRaw.libvirt, () => guarded.getInfo(u));
      await behindGuard.step('destroy', guardedRaw.libvirt, () => guarded.destroy(u));
    }
    {
      const u = randomUUID();
      let ref = LibvirtClient.ref(`bare-${u}`, u);
      await raw.step('define + start', bare, async () => {
        ref = await bare.defineXml(domXml(`bare-${u}`, u));
        await bare.create(ref);
      });
      await raw.step('get state', bare, () => bare.getState(ref));
      await raw.step('destroy + undefine', bare, async () => {
        await bare.destroy(ref);
        await bare.undefine(ref);
      });
    }
    {
      const u = randomUUID();
      let ref = LibvirtClient.ref(`bare-${u}`, u);
      await rawWithDriverXml.step('define + start', bare, async () => {
        ref = await bare.defineXml(driverXml(u));
        await bare.create(ref);
      });
      await rawWithDriverXml.step('get state', bare, () => bare.getState(ref));
      await rawWithDriverXml.step('destroy + undefine', bare, async () => {
        await bare.destroy(ref);
        await bare.undefine(ref);
      });
    }
  }

  const v = median(virshCycles);
  const d = median(ours.total());
  const g = median(behindGuard.total());
  const b = median(raw.total());
  const bx = median(rawWithDriverXml.total());
  const line = (label: string, value: number, calls?: number[]) =>
    console.log(`${label.padEnd(44)} ${value.toFixed(3).padStart(8)} ms${calls ? `   ${String(median(calls)).padStart(2)} libvirt calls` : ''}`);
  console.log(`libvirt test driver via libvirtd, median of ${CYCLES} cycles (virsh: ${VIRSH_CYCLES}), measured side by side`);
  line('cycle through virsh subprocesses', v);
  line('cycle through this driver', d);
  line('cycle through guard(this driver)', g);
  line('cycle on the bare protocol', b);
  line("  the same with the driver's domain XML", bx);
  console.log(`virsh / driver:         ${(v / d).toFixed(1)}x (goal >= 20x)`);
  console.log(`driver / bare protocol: ${(d / b).toFixed(2)}x (goal <= 1.5x)`);
  console.log(`guard(driver) / bare:   ${(g / b).toFixed(2)}x`);
  console.log(`driver / bare with the driver's XML: ${(d / bx).toFixed(2)}x (what the driver adds in calls; the rest is libvirt reading a bigger XML)`);
  console.log(`guard overhead:         ${(((g - d) / d) * 100).toFixed(1)}% (goal < 10%)`);
  console.log('per operation, with the libvirt calls each makes (driver, then the same work on the bare protocol):');
  line('  spawn (create transient, define)', median(ours.ms.get('spawn')!), ours.calls.get('spawn'));
  line('  bare define + start', median(raw.ms.get('define + start')!), raw.calls.get('define + start'));
  line('  getInfo (state + live XML in flight at once)', median(ours.ms.get('getInfo')!), ours.calls.get('getInfo'));
  line('  bare get state', median(raw.ms.get('get state')!), raw.calls.get('get state'));
  line('  destroy (XML, then destroy + undefine)', median(ours.ms.get('destroy')!), ours.calls.get('destroy'));
  line('  bare destroy + undefine', median(raw.ms.get('destroy + undefine')!), raw.calls.get('destroy + undefine'));
  const sum = (s: Steps) => [...s.calls.values()].reduce((n, c) => n + median(c), 0);
  console.log(`libvirt calls per cycle: driver ${sum(ours)}, guard(driver) ${sum(behindGuard)}, bare ${sum(raw)}`);

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
