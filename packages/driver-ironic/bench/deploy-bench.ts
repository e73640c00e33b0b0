/**
 * pnpm bench: deploy and undeploy 200 fake-hardware nodes concurrently, three ways, side by side
 * on the same Ironic (scripts/backends/ironic.sh start bench: 1,000 nodes on 127.0.0.1:6387):
 *   baseline  the direct API written the simplest way, fixed 2-second polling (Nova's wait)
 *   driver    @nova-common/driver-ironic (adaptive, batched waits)
 *   bound     the same mutating requests for every node sent at once, each deploy timed by Ironic
 *             itself (provision_updated_at): no client deploys faster (bench/bound.ts)
 * Each uses its own 200 nodes; the next starts once the previous one's nodes are clean again.
 * Then: an inventory refresh over the 1,000 nodes, with the API calls it took.
 * NC_BENCH_NODES changes the batch size; NC_BENCH_KEEP=1 leaves the bench Ironic running.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { guard } from '@nova-common/core';
import { createIronicDriver } from '../src/index.js';
import { Baseline, sleep } from './baseline.js';
import { IronicBound, type Work } from './bound.js';

const ENDPOINT = 'http://127.0.0.1:6387';
const CLASS = 'bench';
const N = Number(process.env.NC_BENCH_NODES ?? 200);
const IMAGE = 'file:///tmp/nova-common/ironic/images/nc-image-1.img';
const script = fileURLToPath(new URL('../../../scripts/backends/ironic.sh', import.meta.url));

interface Row {
  name: string;
  wallS: number;
  deploysPerS: number;
  requestsPerDeploy: number;
  toActive: number[];
  undeployWallS: number;
  requestsPerUndeploy: number;
}

async function ready(): Promise<boolean> {
  try {
    const r = await fetch(`${ENDPOINT}/v1/drivers`, { headers: { 'X-OpenStack-Ironic-API-Version': '1.78' }, signal: AbortSignal.timeout(3000) });
    return r.ok;
  } catch {
    return false;
  }
}

async function listBench(): Promise<any[]> {
  const out: any[] = [];
  let marker = '';
  for (;;) {
    const r = await fetch(`${ENDPOINT}/v1/nodes?resource_class=${CLASS}&fields=uuid,provision_state,power_state,instance_uuid,maintenance&limit=1000${marker ? `&marker=${marker}` : ''}`, {
      headers: { 'X-OpenStack-Ironic-API-Version': '1.78' },
    });
    const page = ((await r.json()) as { nodes: any[] }).nodes;
    out.push(...page);
    if (page.length < 1000) return out;
    marker = page[page.length - 1].uuid;
  }
}

/** Wait (not measured) until these nodes are available again after cleaning. */
async function settle(nodes: string[]): Promise<void> {
  const want = new Set(nodes);
  for (;;) {
    const all = await listBench();
    if (all.filter((n) => want.has(n.uuid)).every((n) => n.provision_state === 'available' && !n.instance_uuid)) return;
    await sleep(500);
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

function work(nodes: string[]): Work[] {
  return nodes.map((node) => ({ node, uuid: randomUUID(), vif: randomUUID() }));
}

async function runBaseline(nodes: string[]): Promise<Row> {
  const b = new Baseline(ENDPOINT);
  const ws = work(nodes);
  const t0 = performance.now();
  const toActive = await Promise.all(
    ws.map(async (w) => {
      const s = performance.now();
      await b.deploy(w.node, w.uuid, w.vif, IMAGE);
      return performance.now() - s;
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const req = b.stats.requests;
  const u0 = performance.now();
  await Promise.all(ws.map((w) => b.undeploy(w.node, w.uuid, w.vif)));
  const uwall = (performance.now() - u0) / 1000;
  return { name: 'baseline (fixed 2 s polls)', wallS: wall, deploysPerS: N / wall, requestsPerDeploy: req / N, toActive, undeployWallS: uwall, requestsPerUndeploy: (b.stats.requests - req) / N };
}

async function runDriver(nodes: string[]): Promise<Row> {
  // Behind the guard, as consumers run it (outputs unchecked: the bench measures the backend path).
  const raw = createIronicDriver({ endpoint: ENDPOINT, nodeFilter: { resourceClass: CLASS }, imageSourceTemplate: IMAGE.replace('nc-image-1', '{id}'), connections: 64, events: false });
  const d = guard(raw, { validateOutputs: 'none' });
  await d.initHost();
  const flavor = { id: 'bm', name: 'bm', vcpus: 8, memoryMb: 16384, rootGb: 10, ephemeralGb: 0, swapMb: 0, extraSpecs: { 'resources:CUSTOM_BENCH': '1', 'resources:VCPU': '0', 'resources:MEMORY_MB': '0', 'resources:DISK_GB': '0' } };
  const image = { id: 'nc-image-1', diskFormat: 'raw' as const, containerFormat: 'bare' as const, minDiskGb: 0, minRamMb: 0, properties: {} };
  const ws = work(nodes);
  const r0 = raw.stats.requests;
  const t0 = performance.now();
  const toActive = await Promise.all(
    ws.map(async (w) => {
      const s = performance.now();
      await d.spawn({
        uuid: w.uuid, name: `bench-${w.uuid.slice(0, 8)}`, flavor, image, metadata: {}, powerOn: true, node: w.node,
        networkInfo: [{ id: w.vif, address: 'fa:16:3e:00:00:01', network: { id: 'bench', subnets: [] }, type: 'bridge', vnicType: 'baremetal', profile: {}, details: {}, active: true }],
        blockDeviceInfo: { ephemerals: [], volumes: [] },
      });
      return performance.now() - s;
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const req = raw.stats.requests - r0;
  const u0 = performance.now();
  await Promise.all(ws.map((w) => d.destroy(w.uuid)));
  const uwall = (performance.now() - u0) / 1000;
  const ureq = raw.stats.requests - r0 - req;
  await d.cleanupHost();
  return { name: 'driver-ironic (adaptive)', wallS: wall, deploysPerS: N / wall, requestsPerDeploy: req / N, toActive, undeployWallS: uwall, requestsPerUndeploy: ureq / N };
}

async function runBound(nodes: string[]): Promise<Row> {
  const c = new IronicBound(ENDPOINT, CLASS);
  const ws = work(nodes);
  const times = await c.deployAllTimedByIronic(ws, IMAGE);
  const wall = Math.max(...times.values()) / 1000;
  const req = c.stats.requests;
  const u0 = performance.now();
  await c.undeployAll(ws);
  const uwall = (performance.now() - u0) / 1000;
  return { name: "Ironic's bound (timed by Ironic)", wallS: wall, deploysPerS: N / wall, requestsPerDeploy: req / N, toActive: [...times.values()], undeployWallS: uwall, requestsPerUndeploy: (c.stats.requests - req) / N };
}

async function main(): Promise<void> {
  let started = false;
  if (!(await ready())) {
    console.log('starting the bench Ironic (1,000 fake-hardware nodes; the first enrollment takes a few minutes) ...');
    execFileSync(script, ['start', 'bench'], { stdio: 'inherit' });
    started = true;
  }
  try {
    const all = (await listBench()).filter((n) => n.provision_state === 'available' && !n.instance_uuid && !n.maintenance && n.power_state);
    if (all.length < 3 * N) throw new Error(`need ${3 * N} available bench nodes, found ${all.length}`);
    const slice = (i: number) => all.slice(i * N, (i + 1) * N).map((n) => n.uuid as string);
    const rows: Row[] = [];
    for (const [i, run] of [runBaseline, runDriver, runBound].entries()) {
      const nodes = slice(i);
      const row = await run(nodes);
      rows.push(row);
      console.log(`  done: ${row.name}`);
      await settle(nodes);
    }
    console.log(`\nDeploy + undeploy of ${N} fake-hardware nodes at once (Ironic 21.4, one process, ${ENDPOINT})\n`);
    console.log('                                  deploys/s  req/deploy  to active p50 / p95 / max (s)  undeploy s  req/undeploy');
    for (const r of rows) {
      console.log(
        `${r.name.padEnd(34)}${r.deploysPerS.toFixed(2).padStart(9)}  ${r.requestsPerDeploy.toFixed(1).padStart(10)}  ` +
          `${(pct(r.toActive, 50) / 1000).toFixed(1).padStart(12)} / ${(pct(r.toActive, 95) / 1000).toFixed(1)} / ${(Math.max(...r.toActive) / 1000).toFixed(1)}`.padEnd(34) +
          `${r.undeployWallS.toFixed(1).padStart(9)}  ${r.requestsPerUndeploy.toFixed(1).padStart(12)}`,
      );
    }
    const [base, drv, bound] = rows as [Row, Row, Row];
    console.log(`\ndriver vs baseline: ${(drv.deploysPerS / base.deploysPerS).toFixed(2)}x deploys/s, ${(drv.requestsPerDeploy / base.requestsPerDeploy).toFixed(2)}x requests per deploy`);
    console.log(`driver vs Ironic's bound: ${(drv.deploysPerS / bound.deploysPerS).toFixed(2)}x deploys/s (1.00 would be a client with no overhead at all)`);

    // Inventory refresh over every bench node.
    const raw = createIronicDriver({ endpoint: ENDPOINT, nodeFilter: { resourceClass: CLASS } });
    const d = guard(raw, { validateOutputs: 'none' });
    await d.initHost();
    const r0 = raw.stats.requests;
    const t0 = performance.now();
    const inv = await d.getInventory();
    const ms = performance.now() - t0;
    const calls = raw.stats.requests - r0;
    const t1 = performance.now();
    const nodes = await d.listNodes();
    const ms2 = performance.now() - t1;
    const calls2 = raw.stats.requests - r0 - calls;
    await d.cleanupHost();
    console.log(`\ninventory refresh: ${inv.nodes.length} nodes in ${ms.toFixed(0)} ms with ${calls} API call(s); listNodes: ${nodes.length} nodes in ${ms2.toFixed(0)} ms with ${calls2} call(s)`);
  } finally {
    if (started && process.env.NC_BENCH_KEEP !== '1') execFileSync(script, ['stop', 'bench'], { stdio: 'inherit' });
  }
}

await main();
