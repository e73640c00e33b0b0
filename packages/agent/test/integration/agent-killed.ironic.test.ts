import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { InstanceSpecSchema, type InstanceSpec } from '@nova-common/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceSpecToProto } from '../../src/mapping/instance-spec.js';
import * as pb from '../../src/wire.js';
import { HoldingProxy, type ProxiedRequest } from '../helpers/holding-proxy.js';
import { IRONIC_ENDPOINT, requireIronic, servePackage, type ServedPackage } from '../helpers/real-backends.js';
import { killAgent, restartAgent, typedError, until } from '../helpers/killable-agent.js';
import { WireClient } from '../helpers/wire-client.js';

const DRIVER = '@nova-common/driver-ironic';
/** This file's ownership marker on the nodes it deploys: the driver never touches nodes another host id marked. */
const HOST_ID = 'agent-killed';
const API_VERSION = '1.78';
const NODE_AVAILABLE_MS = 15_000;
const CALL_MS = 90_000;

/** PUT /v1/nodes/<node>/states/provision with the given target (driver-ironic's client/endpoints/states.ts). */
function provisionTo(target: 'active' | 'deleted'): (r: ProxiedRequest) => boolean {
  // The target is in the JSON body (`{"target":"active","configdrive":...}`), not in the request line.
  const inBody = new RegExp(`"target"\\s*:\\s*"${target}"`);
  return (r) => /^PUT \S*\/v1\/nodes\/[^/\s]+\/states\/provision[ ?]/.test(r.requestLine) && inBody.test(r.body);
}

/** A Nova bare-metal flavor of the test nodes' class (one CUSTOM_BAREMETAL, nothing else) and an image the backend script made. */
function bareMetalSpec(): InstanceSpec {
  const uuid = randomUUID();
  return InstanceSpecSchema.parse({
    uuid,
    name: `killed-${uuid.slice(0, 8)}`,
    flavor: {
      id: 'bm.small',
      name: 'bm.small',
      vcpus: 8,
      memoryMb: 16384,
      rootGb: 100,
      extraSpecs: { 'resources:CUSTOM_BAREMETAL': '1', 'resources:VCPU': '0', 'resources:MEMORY_MB': '0', 'resources:DISK_GB': '0' },
    },
    image: { id: 'nc-image-1', name: 'nc-image-1', diskFormat: 'raw', containerFormat: 'bare' },
  });
}

interface NodeView {
  uuid: string;
  instance_uuid: string | null;
  provision_state: string;
  target_provision_state: string | null;
  power_state: string | null;
}
const NODE_FIELDS = 'uuid,instance_uuid,provision_state,target_provision_state,power_state';

/** One call of Ironic's REST API, directly: Ironic's own view, not the driver's. */
async function ironicApi(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${IRONIC_ENDPOINT}${path}`, {
    method,
    headers: { 'X-OpenStack-Ironic-API-Version': API_VERSION, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`Ironic ${method} ${path}: HTTP ${res.status} ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

/** The nodes Ironic says carry the instance (instance_uuid is unique in Ironic, so 0 or 1 unless something is badly wrong). */
async function nodesHolding(uuid: string): Promise<NodeView[]> {
  return ((await ironicApi('GET', `/v1/nodes?instance_uuid=${uuid}&fields=${NODE_FIELDS}`)) as { nodes: NodeView[] }).nodes;
}

async function nodeView(nodeUuid: string): Promise<NodeView> {
  return (await ironicApi('GET', `/v1/nodes/${nodeUuid}?fields=${NODE_FIELDS}`)) as NodeView;
}

/** The node as the driver leaves it after destroy: no instance, and available again within its declared nodeAvailableMs (Ironic cleans it meanwhile). */
async function expectFreed(nodeUuid: string): Promise<void> {
  const right = await nodeView(nodeUuid);
  expect(right.instance_uuid).toBeNull();
  expect(['cleaning', 'clean wait', 'available']).toContain(right.provision_state);
  await until(async () => {
    const n = await nodeView(nodeUuid);
    return n.provision_state === 'available' && !n.target_provision_state;
  }, NODE_AVAILABLE_MS);
}

/**
 * The agent SIGKILLed while a call of driver-ironic is in flight on the real Ironic (fake
 * hardware): the caller gets a typed retryable error, and after a restart the retry with the same
 * request id converges (docs/agent.md, Request ids). The journal in --state-dir knows the call
 * was interrupted; the driver's idempotency by uuid does the rest. A proxy on loopback in front
 * of Ironic's port holds the driver's provision request, so the kill lands mid-call every time.
 *
 * A killed spawn leaves its node reserved (instance_uuid set, still `available`) with the killed
 * process named as its holder: the retry meets INSTANCE_EXISTS at the reservation, and the
 * driver releases the abandoned reservation (its holder has certainly died) and reserves again.
 *
 * Ironic's nodes are shared with the other suites: this file deploys on the pool real-ironic
 * uses (resource class baremetal) under a host id of its own, and afterAll tears down, straight
 * through Ironic's API, whatever a failed test left holding one of its instances.
 */
describe('the agent killed mid-call on Ironic (driver-ironic)', () => {
  const proxy = new HoldingProxy({ host: '127.0.0.1', port: 0 }, { host: '127.0.0.1', port: Number(new URL(IRONIC_ENDPOINT).port) });
  const instances = new Set<string>();
  const nodesUsed = new Set<string>();
  let served: ServedPackage | undefined;
  let wire: WireClient;

  beforeAll(async () => {
    await requireIronic();
    await proxy.listen();
    const config = {
      endpoint: `http://127.0.0.1:${proxy.port}`,
      hostId: HOST_ID,
      imageSourceTemplate: 'file:///tmp/nova-common/ironic/images/{id}.img',
      nodeFilter: { resourceClass: 'baremetal' },
      nodeAvailableMs: NODE_AVAILABLE_MS,
    };
    served = await servePackage(DRIVER, config);
    wire = new WireClient(served.endpoint);
  });
  afterAll(async () => {
    wire?.close();
    await served?.close();
    await proxy.close();
    await releaseLeftovers([...instances], nodesUsed);
  });

  /** The one node holding the instance, remembered for the cleanup. */
  async function theNodeOf(uuid: string): Promise<NodeView> {
    const nodes = await nodesHolding(uuid);
    for (const n of nodes) nodesUsed.add(n.uuid);
    expect(nodes).toHaveLength(1);
    return nodes[0]!;
  }

  it('mid-spawn (node reserved, its deploy held and lost): BACKEND_UNAVAILABLE, retryable; the retry with the same request id converges to one running instance', async () => {
    const s = bareMetalSpec();
    instances.add(s.uuid);
    const request = { requestId: randomUUID(), spec: instanceSpecToProto(s) };
    const held = proxy.holdNext(provisionTo('active'));
    const call = wire.call('spawn', request, CALL_MS);
    await held;
    await killAgent(served!);
    expect(typedError(await call, 'spawn')).toStrictEqual({ grpc: status.UNAVAILABLE, detail: undefined, code: 'BACKEND_UNAVAILABLE', retryable: true });
    (await held).drop();
    // Half made: one node reserved for the instance, its deploy never asked for.
    const reserved = await theNodeOf(s.uuid);
    expect(reserved).toMatchObject({ provision_state: 'available', target_provision_state: null });

    wire = await restartAgent(served!, wire);
    const retried = await wire.call('spawn', request, CALL_MS);
    expect(retried.ok, JSON.stringify(!retried.ok && retried.error)).toBe(true);
    const info = await wire.call('getInfo', { uuid: s.uuid });
    expect(info.ok && (info.response as pb.GetInfoResponse).info?.powerState).toBe(pb.PowerState.RUNNING);
    const deployed = await theNodeOf(s.uuid);
    expect(deployed).toMatchObject({ provision_state: 'active', target_provision_state: null, power_state: 'power on' });
    // The abandoned reservation was released, not left beside the instance (another node may have been picked).
    if (deployed.uuid !== reserved.uuid) expect((await nodeView(reserved.uuid)).instance_uuid).toBeNull();
    // Asked again, the request is answered from the journal: still one instance, on the same node.
    expect((await wire.call('spawn', request, CALL_MS)).ok).toBe(true);
    expect((await theNodeOf(s.uuid)).uuid).toBe(deployed.uuid);

    expect((await wire.call('destroy', { requestId: randomUUID(), uuid: s.uuid }, CALL_MS)).ok).toBe(true);
    expect(await nodesHolding(s.uuid)).toStrictEqual([]);
    await expectFreed(deployed.uuid);
  });

  for (const ironicActs of [true, false]) {
    it(`mid-destroy (undeploy held, then ${ironicActs ? 'done by Ironic after the agent died' : 'lost'}): BACKEND_UNAVAILABLE, retryable; the retry converges and no node holds the instance`, async () => {
      const s = bareMetalSpec();
      instances.add(s.uuid);
      const spawned = await wire.call('spawn', { requestId: randomUUID(), spec: instanceSpecToProto(s) }, CALL_MS);
      expect(spawned.ok, JSON.stringify(!spawned.ok && spawned.error)).toBe(true);
      const node = await theNodeOf(s.uuid);
      const request = { requestId: randomUUID(), uuid: s.uuid };
      const held = proxy.holdNext(provisionTo('deleted'));
      const call = wire.call('destroy', request, CALL_MS);
      await held;
      await killAgent(served!);
      expect(typedError(await call, 'destroy')).toStrictEqual({ grpc: status.UNAVAILABLE, detail: undefined, code: 'BACKEND_UNAVAILABLE', retryable: true });
      if (ironicActs) {
        (await held).forward();
        await until(async () => (await nodesHolding(s.uuid)).length === 0);
      } else {
        (await held).drop();
        // Lost: the node still carries the instance, deployed (the driver powered it off first).
        expect(await theNodeOf(s.uuid)).toMatchObject({ uuid: node.uuid, provision_state: 'active', target_provision_state: null });
      }

      wire = await restartAgent(served!, wire);
      const retried = await wire.call('destroy', request, CALL_MS);
      expect(retried.ok, JSON.stringify(!retried.ok && retried.error)).toBe(true);
      const info = await wire.call('getInfo', { uuid: s.uuid });
      expect(!info.ok && info.error?.code).toBe('INSTANCE_NOT_FOUND');
      expect(await nodesHolding(s.uuid)).toStrictEqual([]);
      await expectFreed(node.uuid);
    });
  }
});

/**
 * After a failed test: tear down, straight through Ironic's API, every node still holding one of
 * this file's instances (powered off, undeployed, or un-reserved when it was never deployed), and
 * wait until each node this file used is available again, so the suites after it find the pool
 * as it was.
 */
async function releaseLeftovers(instances: string[], nodesUsed: Set<string>): Promise<void> {
  for (const uuid of instances) {
    for (const n of await nodesHolding(uuid)) {
      nodesUsed.add(n.uuid);
      await until(async () => !(await nodeView(n.uuid)).target_provision_state, 60_000);
      const now = await nodeView(n.uuid);
      if (now.instance_uuid !== uuid) continue;
      if (now.power_state !== 'power off') {
        await ironicApi('PUT', `/v1/nodes/${n.uuid}/states/power`, { target: 'power off' });
        await until(async () => (await nodeView(n.uuid)).power_state === 'power off', 60_000);
      }
      if (now.provision_state === 'available') {
        await ironicApi('PATCH', `/v1/nodes/${n.uuid}`, [
          { op: 'remove', path: '/instance_uuid' },
          { op: 'replace', path: '/instance_info', value: {} },
        ]);
      } else {
        await ironicApi('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'deleted' });
      }
    }
  }
  for (const nodeUuid of nodesUsed) {
    await until(async () => {
      const n = await nodeView(nodeUuid);
      // Free and settled, or already taken by another suite's instance (then it is theirs to wait for).
      return (n.provision_state === 'available' && !n.target_provision_state) || (n.instance_uuid !== null && !instances.includes(n.instance_uuid));
    }, 60_000);
  }
}
