/**
 * `tsx bench/migration.ts`: a live migration a -> b between the two libvirt hosts of this machine
 * (scripts/backends/libvirt.sh = host a, scripts/backends/libvirt-b.sh = host b), measured side by
 * side in one run, interleaved round by round (the order of the two alternates):
 *   - this driver behind the guard: prepareMigration on b, migrate on a, finishMigration on b
 *     (peer-to-peer, the root disk copied over NBD, the source's definition and files removed);
 *   - virsh: the same kind of guest (spawned by the driver on a, so the same XML, memory, vcpus,
 *     kernel/initrd and disk), moved the same way by hand: the migratable XMLs read with
 *     `virsh dumpxml`, the destination's blank disk made with qemu-img and the console log copied
 *     (what the driver does before its migrate call), then
 *     `virsh migrate --live --p2p --persistent --undefinesource --copy-storage-all`.
 * Spawning the guest (and waiting for its userspace) and removing it afterwards are not timed.
 * Downtime and libvirt's own elapsed time come from the completed job of the incoming migration on
 * the destination: the driver's client asks b (REMOTE_PROC_DOMAIN_GET_JOB_STATS, flags COMPLETED);
 * for virsh, `virsh -c <b> domjobinfo --completed`.
 * Prints each round, then the medians and the ratio driver / virsh (goal <= 1.2x).
 * BENCH_MIGRATION_ROUNDS (default 5) sets the number of rounds.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { guard, type GuardedDriver, type InstanceSpecInput } from '@nova-common/core';
import { LibvirtClient } from '../src/client/libvirt-client.js';
import { JobStatsFlags } from '../src/client/protocol/migrate-args.js';
import type { TypedParam } from '../src/client/protocol/typed-params.js';
import { createLibvirtDriver } from '../src/driver/driver.js';
import { DRIVER_NAME } from '../src/driver-name.js';
import { GUEST_IMAGE_ID } from '../src/fixtures/conformance-fixtures.js';
import { create as createImage, imageInfo } from '../src/images/qemu-img.js';
import { consoleLogPath } from '../src/mapping/domain-xml.js';
import { relocateXml } from '../src/mapping/migration-address.js';

const run = promisify(execFile);
const ROUNDS = Number(process.env['BENCH_MIGRATION_ROUNDS'] ?? 5);
const A_SOCKET = process.env['LIBVIRT_SOCKET'] ?? '/run/libvirt/libvirt-sock';
const B_SOCKET = '/run/nova-common/libvirt-b/libvirt-sock';
/** Host b as host a's libvirtd (and any client here) reaches it. */
const B_URI = `qemu+unix:///system?socket=${B_SOCKET}`;
/** Host a as host b's libvirtd reaches it (a's socket is bound there inside b's namespace). */
const A_FROM_B = 'qemu+unix:///system?socket=/run/nova-common/libvirt-b/host-a/libvirt-sock';
const GUEST_DIR = '/var/lib/libvirt/images/nova-common';
const KERNEL = `${GUEST_DIR}/guest/vmlinuz`;
const INITRD = `${GUEST_DIR}/guest/initrd.img`;
const A_INSTANCES = `${GUEST_DIR}/instances`;
const B_INSTANCES = `${GUEST_DIR}/instances-b`;
const PREFIX = 'nvbench-mig-';

const config = (over: Record<string, unknown>) => ({ uri: 'qemu:///system', socketPath: A_SOCKET, kernel: KERNEL, initrd: INITRD, namePrefix: PREFIX, ...over });
const rawA = createLibvirtDriver(config({ migrationAddress: A_FROM_B, instancesDir: A_INSTANCES }));
const rawB = createLibvirtDriver(config({ socketPath: B_SOCKET, instancesDir: B_INSTANCES }));
const a: GuardedDriver = guard(rawA);
const b: GuardedDriver = guard(rawB);
/** Every instance the bench made, removed from both hosts at the end whatever happened. */
const made = new Set<string>();
/** Every instance the bench made, for the check that nothing is left. */
const everMade = new Set<string>();
/** The driver's migrations: their books on b (the finished marker kept for an idempotent finish) are removed at the end. */
const migrationIds = new Set<string>();

const spec = (): InstanceSpecInput => ({
  uuid: randomUUID(),
  name: 'bench-migrant',
  flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 128, rootGb: 1 },
  image: { id: GUEST_IMAGE_ID, diskFormat: 'raw', containerFormat: 'bare' },
});

async function virsh(uri: string, ...args: string[]): Promise<string> {
  return (await run('virsh', ['-q', '-c', uri, ...args], { timeout: 120_000 })).stdout;
}

function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A guest spawned on a, its userspace up (not timed). */
async function guestOnA(): Promise<string> {
  const s = spec();
  made.add(s.uuid!);
  everMade.add(s.uuid!);
  await a.spawn(s);
  await waitFor('the guest to boot', async () => /NOVA-GUEST: READY/.test((await a.getConsoleOutput(s.uuid!)).output), 120_000);
  return s.uuid!;
}

interface JobFigures {
  /** libvirt's elapsed time of the migration job, ms. */
  elapsed: number;
  downtime: number;
  /** MiB of memory (and disk) data sent. */
  dataMiB: number;
}

function fromTypedParams(params: TypedParam[]): JobFigures {
  const n = (field: string): number => {
    const p = params.find((x) => x.field === field);
    return p === undefined ? NaN : Number(p.value.value);
  };
  return { elapsed: n('time_elapsed'), downtime: n('downtime'), dataMiB: n('data_processed') / 2 ** 20 };
}

/** `virsh domjobinfo --completed` as figures ("Time elapsed: 1502 ms", "Total downtime: 107 ms", "Data processed: 92.2 MiB"). */
function fromDomjobinfo(text: string): JobFigures {
  const field = (label: string): RegExpMatchArray | null => text.match(new RegExp(`^${label}:\\s+([0-9.]+)\\s*(\\S*)`, 'm'));
  const ms = (label: string): number => Number(field(label)?.[1] ?? NaN);
  const d = field('Data processed');
  const unit: Record<string, number> = { B: 2 ** -20, KiB: 2 ** -10, MiB: 1, GiB: 2 ** 10 };
  return { elapsed: ms('Time elapsed'), downtime: ms('Total downtime'), dataMiB: d ? Number(d[1]) * (unit[d[2]!] ?? NaN) : NaN };
}

/** The driver: prepare on b, migrate on a, finish on b (timed); then the incoming job's stats on b. */
async function driverRound(uuid: string): Promise<{ wall: number; job: JobFigures }> {
  const migrationId = randomUUID();
  migrationIds.add(migrationId);
  const t0 = now();
  const target = await b.prepareMigration({ migrationId, kind: 'LIVE', sourceDriver: DRIVER_NAME, instance: { ...spec(), uuid } });
  await a.migrate(uuid, target);
  await b.finishMigration(target.migrationId);
  const wall = now() - t0;
  const ref = await rawB.libvirt.lookupByUuid(uuid);
  const stats = await rawB.libvirt.getJobStats(ref, JobStatsFlags.COMPLETED);
  return { wall, job: fromTypedParams(stats.params) };
}

/**
 * virsh, the same move by hand (timed): the migratable XMLs with the files' paths moved to b's
 * directory, a blank disk of the same format and size there and the console log so far, then
 * the migrate command. Also returns the migrate command's own time.
 */
async function virshRound(uuid: string, scratch: string): Promise<{ wall: number; command: number; job: JobFigures }> {
  const name = (await rawA.libvirt.lookupByUuid(uuid)).name;
  const sourceDir = join(A_INSTANCES, uuid);
  const destDir = join(B_INSTANCES, uuid);
  const destXml = join(scratch, `${uuid}.xml`);
  const persistXml = join(scratch, `${uuid}.persistent.xml`);
  const t0 = now();
  const [live, inactive] = await Promise.all([virsh('qemu:///system', 'dumpxml', '--migratable', name), virsh('qemu:///system', 'dumpxml', '--migratable', '--inactive', name)]);
  await Promise.all([writeFile(destXml, relocateXml(live, sourceDir, destDir)), writeFile(persistXml, relocateXml(inactive, sourceDir, destDir))]);
  const disks = [...live.matchAll(/<disk type='file' device='disk'>[\s\S]*?<driver name='qemu' type='(\w+)'[\s\S]*?<source file='([^']+)'[\s\S]*?<target dev='(\w+)'/g)]
    .filter((m) => m[2]!.startsWith(`${sourceDir}/`))
    .map((m) => ({ format: m[1]!, path: m[2]!, target: m[3]! }));
  if (disks.length === 0) throw new Error(`no local disk found in the XML of ${name}`);
  await mkdir(destDir, { recursive: true });
  for (const d of disks) {
    const { virtualSize } = await imageInfo(d.path, d.format);
    await createImage(join(destDir, d.path.slice(sourceDir.length)), d.format, virtualSize);
  }
  await copyFile(consoleLogPath({ instanceDir: sourceDir }), consoleLogPath({ instanceDir: destDir })).catch(() => undefined);
  const t1 = now();
  await virsh(
    'qemu:///system',
    'migrate', '--live', '--p2p', '--persistent', '--undefinesource', '--copy-storage-all',
    name, B_URI,
    '--migrateuri', 'tcp://127.0.0.1', '--listen-address', '127.0.0.1',
    '--xml', destXml, '--persistent-xml', persistXml,
    '--migrate-disks', disks.map((d) => d.target).join(','),
  );
  const t2 = now();
  const job = fromDomjobinfo(await virsh(B_URI, 'domjobinfo', '--completed', name));
  // virsh leaves the source's files; the driver removes them inside migrate (not timed here).
  await rm(sourceDir, { recursive: true, force: true });
  return { wall: t2 - t0, command: t2 - t1, job };
}

/** Remove the instance from both hosts (not timed): the driver's destroy, then by hand whatever is left. */
async function removeEverywhere(uuid: string): Promise<void> {
  await b.destroy(uuid).catch(() => undefined);
  await a.destroy(uuid).catch(() => undefined);
  for (const [socketPath, dir] of [[B_SOCKET, B_INSTANCES], [A_SOCKET, A_INSTANCES]] as const) {
    const c = new LibvirtClient({ socketPath, uri: 'qemu:///system', keepaliveIntervalMs: 0 });
    try {
      await c.connect();
      for (const d of (await c.listAllDomains(0)).filter((x) => x.name.startsWith(PREFIX))) {
        await c.destroy(d).catch(() => undefined);
        await c.undefine(d, 1 | 2).catch(() => undefined);
      }
    } finally {
      await c.close().catch(() => undefined);
    }
    await rm(join(dir, uuid), { recursive: true, force: true });
  }
  made.delete(uuid);
}

async function requireDaemon(socketPath: string, script: string): Promise<void> {
  const c = new LibvirtClient({ socketPath, uri: 'qemu:///system', connectTimeoutMs: 5_000, keepaliveIntervalMs: 0 });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(`libvirtd is not reachable at ${socketPath}: run bash scripts/backends/${script} start (${(err as Error).message})`);
  } finally {
    await c.close().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  await requireDaemon(A_SOCKET, 'libvirt.sh');
  await requireDaemon(B_SOCKET, 'libvirt-b.sh');
  await a.initHost();
  await b.initHost();
  const scratch = await mkdtemp(join(tmpdir(), 'nova-bench-migration-'));
  const driverWall: number[] = [];
  const driverJob: JobFigures[] = [];
  const virshWall: number[] = [];
  const virshCommand: number[] = [];
  const virshJob: JobFigures[] = [];
  const f = (x: number, w = 8): string => (Number.isFinite(x) ? x.toFixed(0) : '?').padStart(w);
  console.log(`live migration a -> b (QEMU/TCG, 128 MiB, 1 vCPU, 1 GB root disk copied), ${ROUNDS} rounds, driver and virsh interleaved`);
  console.log(`${'round'.padEnd(6)}${'driver ms'.padStart(10)}${'virsh ms'.padStart(10)}${'(command)'.padStart(10)}${'ratio'.padStart(7)}  |${'elapsed d/v'.padStart(14)}${'downtime d/v'.padStart(14)}${'MiB d/v'.padStart(10)}`);
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const doDriver = async (): Promise<void> => {
        const uuid = await guestOnA();
        const r = await driverRound(uuid);
        driverWall.push(r.wall);
        driverJob.push(r.job);
        await removeEverywhere(uuid);
      };
      const doVirsh = async (): Promise<void> => {
        const uuid = await guestOnA();
        const r = await virshRound(uuid, scratch);
        virshWall.push(r.wall);
        virshCommand.push(r.command);
        virshJob.push(r.job);
        await removeEverywhere(uuid);
      };
      if (i % 2 === 0) {
        await doDriver();
        await doVirsh();
      } else {
        await doVirsh();
        await doDriver();
      }
      const dj = driverJob[i]!;
      const vj = virshJob[i]!;
      console.log(
        `${String(i + 1).padEnd(6)}${f(driverWall[i]!, 10)}${f(virshWall[i]!, 10)}${f(virshCommand[i]!, 10)}${(driverWall[i]! / virshWall[i]!).toFixed(2).padStart(6)}x  |` +
          `${`${f(dj.elapsed, 0)}/${f(vj.elapsed, 0)}`.padStart(14)}${`${f(dj.downtime, 0)}/${f(vj.downtime, 0)}`.padStart(14)}${`${f(dj.dataMiB, 0)}/${f(vj.dataMiB, 0)}`.padStart(10)}`,
      );
    }
  } finally {
    for (const uuid of [...made]) await removeEverywhere(uuid).catch((err) => console.error(`cleanup of ${uuid}: ${(err as Error).message}`));
    await rm(scratch, { recursive: true, force: true });
    for (const id of migrationIds) {
      for (const ext of ['finished', 'json']) await rm(join(B_INSTANCES, '.migrations', `${id}.${ext}`), { force: true });
    }
    await a.cleanupHost().catch(() => undefined);
    await b.cleanupHost().catch(() => undefined);
  }

  const dw = median(driverWall);
  const vw = median(virshWall);
  const vc = median(virshCommand);
  const med = (js: JobFigures[], k: keyof JobFigures): number => median(js.map((j) => j[k]));
  const line = (label: string, value: number, unit = 'ms') => console.log(`${label.padEnd(58)} ${value.toFixed(0).padStart(7)} ${unit}`);
  console.log(`medians of ${ROUNDS} rounds, measured side by side:`);
  line('driver: prepareMigration + migrate + finishMigration', dw);
  line('virsh: dumpxml x2 + destination disk + log + migrate', vw);
  line('  of which the `virsh migrate` command alone', vc);
  line('libvirt job elapsed (destination, completed job): driver', med(driverJob, 'elapsed'));
  line('libvirt job elapsed (destination, completed job): virsh', med(virshJob, 'elapsed'));
  line('downtime: driver', med(driverJob, 'downtime'));
  line('downtime: virsh', med(virshJob, 'downtime'));
  console.log(`driver / virsh:                 ${(dw / vw).toFixed(2)}x (goal <= 1.2x)`);
  console.log(`driver / virsh migrate command: ${(dw / vc).toFixed(2)}x (the virsh figure without the preparation the driver does inside migrate)`);
  console.log(`downtime driver / virsh:        ${(med(driverJob, 'downtime') / med(virshJob, 'downtime')).toFixed(2)}x`);
  const left = [...(await readdir(A_INSTANCES)), ...(await readdir(B_INSTANCES))].filter((n) => everMade.has(n));
  if (left.length > 0) console.log(`left behind: ${left.join(', ')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
