import { randomUUID } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { InstanceSpecSchema, type InstanceSpecInput } from '@nova-common/core';
import { GUEST_IMAGE_ID, LibvirtClient } from '@nova-common/driver-libvirt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceSpecToProto } from '../../src/mapping/instance-spec.js';
import * as pb from '../../src/wire.js';
import { LibvirtHoldingProxy, LibvirtProc } from '../helpers/libvirt-holding-proxy.js';
import { LIBVIRT_SOCKET, requireLibvirtd, servePackage, type ServedPackage } from '../helpers/real-backends.js';
import { tempDir } from '../helpers/serve.js';
import { killAgent, restartAgent, typedError, until } from '../helpers/killable-agent.js';
import { WireClient } from '../helpers/wire-client.js';

const DRIVER = '@nova-common/driver-libvirt';
const URI = 'qemu:///system';
/** The tiny guest of scripts/guest/build.sh, as driver-libvirt's own QEMU tests boot it. */
const GUEST_DIR = '/var/lib/libvirt/images/nova-common/guest';
const KERNEL = `${GUEST_DIR}/vmlinuz`;
const INITRD = `${GUEST_DIR}/initrd.img`;
const INSTANCES_DIR = '/var/lib/libvirt/images/nova-common/instances';
/** Domain names are `<prefix><uuid>-<tag>`: this prefix is this file's alone, so no other test's domain is touched. */
const PREFIX = 'agentkilled-';
const CALL_MS = 120_000;
const TEST_MS = 300_000;

function guestSpec(): InstanceSpecInput {
  const uuid = randomUUID();
  return { uuid, name: `killed-${uuid.slice(0, 8)}`, flavor: { id: 'tiny', name: 'tiny', vcpus: 1, memoryMb: 128, rootGb: 1 }, image: { id: GUEST_IMAGE_ID, diskFormat: 'raw', containerFormat: 'bare' } };
}

/** libvirtd's own view of an instance, asked on its socket behind the agent's back: its domains (any state). */
interface OnDaemon {
  name: string;
  running: boolean;
  persistent: boolean;
}

/**
 * The agent SIGKILLed while a call of driver-libvirt is in flight on libvirtd with QEMU guests
 * (TCG): the caller gets a typed retryable error, and after a restart the retry with the same
 * request id converges. The request-id journal in --state-dir tells the restarted agent the call
 * was interrupted; the driver does the rest: at connect it sweeps the transient domain of a spawn
 * whose process has died (a spawn starts its guest as a transient domain and defines it last), a
 * spawn whose uuid exists answers INSTANCE_EXISTS, and a destroy of what is gone is a no-op.
 *
 * libvirt's test:/// driver keeps its state per connection, so a killed agent would take it
 * along: these run on qemu:///system, whose domains outlive the connection. A proxy in front of
 * libvirtd's socket holds the driver's RPC call, so the kill lands mid-call every time.
 */
describe('the agent killed mid-call on libvirtd (driver-libvirt, QEMU/TCG)', () => {
  const dir = tempDir('nova-agent-killed-libvirt-');
  const proxy = new LibvirtHoldingProxy(join(dir.dir, 'libvirt.sock'), LIBVIRT_SOCKET);
  // Short keepalive and call deadlines: a lost connection is noticed in seconds, not the defaults' 30 s.
  const config = { uri: URI, socketPath: proxy.path, kernel: KERNEL, initrd: INITRD, instancesDir: INSTANCES_DIR, namePrefix: PREFIX, callTimeoutMs: 30_000, keepaliveIntervalMs: 1_000, keepaliveCount: 5, acpiShutdownTimeoutMs: 3_000 };
  const daemon = new LibvirtClient({ socketPath: LIBVIRT_SOCKET, uri: URI, keepaliveIntervalMs: 0 });
  const spawned = new Set<string>();
  let served: ServedPackage;
  let wire: WireClient;

  beforeAll(async () => {
    await requireLibvirtd();
    if (!existsSync(KERNEL) || !existsSync(INITRD)) throw new Error(`the QEMU test guest is missing (${KERNEL}, ${INITRD}): run scripts/guest/build.sh (scripts/backends/libvirt.sh install does)`);
    await daemon.connect();
    await proxy.listen();
    served = await servePackage(DRIVER, config);
    wire = new WireClient(served.endpoint);
  });
  afterAll(async () => {
    wire?.close();
    await served?.close();
    await proxy.close();
    await removeLeftovers().finally(() => daemon.close().catch(() => undefined));
    dir.remove();
  }, TEST_MS);

  /** The domains of `uuid` that libvirtd has, with this file's prefix. */
  async function onDaemon(uuid: string): Promise<OnDaemon[]> {
    const [all, persistent] = await Promise.all([daemon.listAllDomains(0), daemon.listAllDomains(4 /* VIR_CONNECT_LIST_DOMAINS_PERSISTENT */)]);
    const isPersistent = new Set(persistent.map((d) => d.name));
    return all.filter((d) => d.name.startsWith(`${PREFIX}${uuid}`)).map((d) => ({ name: d.name, running: d.id > 0, persistent: isPersistent.has(d.name) }));
  }

  /** Whatever of an instance is left on the host's disk: its directory of disks and console log. */
  function filesOf(uuid: string): boolean {
    return existsSync(join(INSTANCES_DIR, uuid));
  }

  /** Every domain with this file's prefix (a failed run's included) goes, with its directory. */
  async function removeLeftovers(): Promise<void> {
    for (const d of await daemon.listAllDomains(0)) {
      if (!d.name.startsWith(PREFIX)) continue;
      if (d.id > 0) await daemon.destroy(d).catch(() => undefined);
      await daemon.undefine(d).catch(() => undefined);
    }
    for (const uuid of spawned) rmSync(join(INSTANCES_DIR, uuid), { recursive: true, force: true });
  }

  function parsedSpec() {
    const s = InstanceSpecSchema.parse(guestSpec());
    spawned.add(s.uuid);
    return s;
  }

  it(
    'mid-spawn (guest started, its definition held): BACKEND_UNAVAILABLE, retryable; the retry with the same request id converges to one running instance',
    async () => {
      const s = parsedSpec();
      const request = { requestId: randomUUID(), spec: instanceSpecToProto(s) };
      const held = proxy.holdNext(LibvirtProc.DOMAIN_DEFINE_XML_FLAGS);
      const call = wire.call('spawn', request, CALL_MS);
      await held;
      await killAgent(served);
      expect(typedError(await call, 'spawn')).toStrictEqual({ grpc: status.UNAVAILABLE, detail: undefined, code: 'BACKEND_UNAVAILABLE', retryable: true });
      (await held).drop();
      // Half made: the guest runs as a transient domain, never defined; its disks are on the host.
      const half = await onDaemon(s.uuid);
      expect(half.map((d) => ({ running: d.running, persistent: d.persistent }))).toStrictEqual([{ running: true, persistent: false }]);
      expect(filesOf(s.uuid)).toBe(true);

      wire = await restartAgent(served, wire);
      const retried = await wire.call('spawn', request, CALL_MS);
      expect(retried.ok, JSON.stringify(!retried.ok && retried.error)).toBe(true);
      const info = await wire.call('getInfo', { uuid: s.uuid });
      expect(info.ok && (info.response as pb.GetInfoResponse).info?.powerState).toBe(pb.PowerState.RUNNING);
      // One domain, made by the retry: the half-made one was swept (its spawning process had died).
      const after = await onDaemon(s.uuid);
      expect(after.map((d) => ({ running: d.running, persistent: d.persistent }))).toStrictEqual([{ running: true, persistent: true }]);
      expect(after[0]?.name).not.toBe(half[0]?.name);
      // Asked again, the request is answered from the journal: still one instance.
      expect((await wire.call('spawn', request, CALL_MS)).ok).toBe(true);
      expect(await onDaemon(s.uuid)).toStrictEqual(after);
      expect((await wire.call('destroy', { requestId: randomUUID(), uuid: s.uuid }, CALL_MS)).ok).toBe(true);
      expect(await onDaemon(s.uuid)).toStrictEqual([]);
      expect(filesOf(s.uuid)).toBe(false);
    },
    TEST_MS,
  );

  for (const daemonActs of [true, false]) {
    it(
      `mid-destroy (guest stopped, its undefine held, then ${daemonActs ? 'done by libvirtd after the agent died' : 'lost'}): BACKEND_UNAVAILABLE, retryable; the retry converges and nothing is left`,
      async () => {
        const s = parsedSpec();
        expect((await wire.call('spawn', { requestId: randomUUID(), spec: instanceSpecToProto(s) }, CALL_MS)).ok).toBe(true);
        expect(await onDaemon(s.uuid)).toHaveLength(1);
        const request = { requestId: randomUUID(), uuid: s.uuid };
        const held = proxy.holdNext(LibvirtProc.DOMAIN_UNDEFINE_FLAGS);
        const call = wire.call('destroy', request, CALL_MS);
        await held;
        // The destroy goes alongside the undefine and is not held: the kill waits for the guest to be off.
        await until(async () => (await onDaemon(s.uuid)).every((d) => !d.running));
        await killAgent(served);
        expect(typedError(await call, 'destroy')).toStrictEqual({ grpc: status.UNAVAILABLE, detail: undefined, code: 'BACKEND_UNAVAILABLE', retryable: true });
        const h = await held;
        if (daemonActs) {
          h.forward();
          await h.answered;
          expect(await onDaemon(s.uuid)).toStrictEqual([]);
        } else {
          h.drop();
          // Lost: the guest is stopped (the destroy went through) but still defined.
          expect((await onDaemon(s.uuid)).map((d) => ({ running: d.running, persistent: d.persistent }))).toStrictEqual([{ running: false, persistent: true }]);
        }

        wire = await restartAgent(served, wire);
        const retried = await wire.call('destroy', request, CALL_MS);
        expect(retried.ok, JSON.stringify(!retried.ok && retried.error)).toBe(true);
        const info = await wire.call('getInfo', { uuid: s.uuid });
        expect(!info.ok && info.error?.code).toBe('INSTANCE_NOT_FOUND');
        expect(await onDaemon(s.uuid)).toStrictEqual([]);
        expect(filesOf(s.uuid)).toBe(false);
      },
      TEST_MS,
    );
  }
});
