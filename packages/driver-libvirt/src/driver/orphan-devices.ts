import type { DomainRef } from '../client/protocol/remote-types.js';
import { LibvirtError } from '../client/errors.js';
import type { DriverContext } from './context.js';

/**
 * Disks QEMU holds and libvirtd does not know. libvirtd killed in the middle of a disk hot-plug
 * leaves QEMU with the disk's block nodes (`blockdev-add` done), or with the nodes and the guest
 * device (`device_add` done too), while the domain's state libvirtd reads back after its restart
 * has no such disk. libvirtd then picks the same node names and device alias again for the next
 * attach, and QEMU refuses them ("Duplicate nodes with node-name='libvirt-2-storage'", "Duplicate
 * device with id='virtio-disk1'") on every retry, for good; meanwhile the guest may see a disk
 * nobody manages. libvirt's API offers no way to remove what it does not know, so the driver asks
 * QEMU's monitor itself (through libvirtd, which holds the domain's job meanwhile, so no attach of
 * libvirtd's own runs beside it) for the disk devices and block nodes, and removes those the live
 * domain XML does not name: a device whose alias it lacks, a node `libvirt-<N>-…` whose source
 * index N it lacks. Only disks are looked at; nothing libvirtd knows is touched.
 */

/** Whether an attach failed because QEMU already holds a node or device of the name libvirtd chose. */
export function isQemuDuplicate(err: unknown): boolean {
  return err instanceof LibvirtError && /Duplicate (?:device|nodes?) with (?:id|node-name)/.test(err.message);
}

/** QEMU's guest disk devices (qdev types): what a libvirt disk becomes. */
const DISK_DEVICE = /^child<(?:virtio-blk-pci|virtio-blk-device|scsi-hd|scsi-cd|ide-hd|ide-cd|usb-storage)>$/;
const LIBVIRT_NODE = /^libvirt-(\d+)-(format|storage)$/;
const DEVICE_GONE_WITHIN_MS = 60_000;
const ASK_AGAIN_MS = 2_000;

/** Remove QEMU's disk devices and block nodes the domain's live XML does not name; returns what went. */
export async function removeOrphanDisks(ctx: DriverContext, ref: DomainRef): Promise<string[]> {
  const xml = await ctx.client.getXmlDesc(ref, 0);
  const aliases = new Set([...xml.matchAll(/<alias name='([^']+)'\/>/g)].map((m) => m[1]!));
  const indices = new Set([...xml.matchAll(/ index='(\d+)'/g)].map((m) => m[1]!));
  const removed: string[] = [];
  const orphanDevices = async (): Promise<string[]> =>
    (await qmp<{ name: string; type: string }[]>(ctx, ref, 'qom-list', { path: '/machine/peripheral' })).filter((d) => DISK_DEVICE.test(d.type) && !aliases.has(d.name)).map((d) => d.name);
  // A guest device goes once the guest lets go of it (PCI unplug: a guest still booting may miss the
  // request, so it is asked again every ASK_AGAIN_MS); its nodes only after that.
  const deadline = Date.now() + DEVICE_GONE_WITHIN_MS;
  for (let left = await orphanDevices(), asked = 0; left.length > 0; left = await orphanDevices()) {
    if (Date.now() > deadline) throw new Error(`QEMU did not remove the orphaned disk devices ${left.join(', ')} within ${DEVICE_GONE_WITHIN_MS} ms`);
    if (Date.now() - asked >= ASK_AGAIN_MS) {
      for (const id of left) {
        await qmp(ctx, ref, 'device_del', { id }).catch(() => undefined);
        if (!removed.includes(`device ${id}`)) removed.push(`device ${id}`);
      }
      asked = Date.now();
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const nodes = (await qmp<{ 'node-name': string }[]>(ctx, ref, 'query-named-block-nodes', { flat: true }))
    .map((n) => LIBVIRT_NODE.exec(n['node-name']))
    .filter((m): m is RegExpExecArray => m !== null && !indices.has(m[1]!));
  // The format node sits on its storage node: it goes first.
  for (const m of nodes.sort((a, b) => (a[2] === b[2] ? 0 : a[2] === 'format' ? -1 : 1))) {
    await qmp(ctx, ref, 'blockdev-del', { 'node-name': m[0] });
    removed.push(`node ${m[0]}`);
  }
  return removed;
}

/** One QMP command through libvirtd; QEMU's error is thrown as an Error with its description. */
async function qmp<T = unknown>(ctx: DriverContext, ref: DomainRef, execute: string, args: Record<string, unknown>): Promise<T> {
  const answer = JSON.parse(await ctx.client.qemuMonitorCommand(ref, JSON.stringify({ execute, arguments: args }))) as { return?: T; error?: { desc?: string } };
  if (answer.error !== undefined) throw new Error(`QEMU ${execute}: ${answer.error.desc ?? 'failed'}`);
  return answer.return as T;
}
