import type { ConformanceFixtures, FlavorInput, ImageMetaInput, InstanceSpecInput } from '@nova-common/core';
import type { IronicDriverConfig } from './config.js';
import { IronicDriver } from './driver/driver.js';
import { customResourceClass } from './mapping/state.js';
import { findBackendScript, ironicBackendHooks } from './backend-hooks.js';
import { ironicWitness } from './witness.js';

/** The smallest hardware among the nodes, which a flavor must fit to be deployable on any of them. */
export interface NodeHardware {
  cpus: number;
  memoryMb: number;
  localGb: number;
}

/** Image ids a conformance run deploys; the images' location comes from config.imageSourceTemplate. */
export const CONFORMANCE_IMAGES: ImageMetaInput[] = ['nc-image-1', 'nc-image-2', 'nc-image-3'].map((id) => ({
  id,
  name: id,
  diskFormat: 'raw',
  containerFormat: 'bare',
}));

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * Make a generated spec deployable, as an operator would: a flavor that fits the nodes'
 * hardware becomes Nova's bare-metal flavor of their class (resources:CUSTOM_<CLASS>=1 and
 * VCPU/MEMORY_MB/DISK_GB=0); a bigger one stays as it is, so it fits no node and the run
 * expects INSUFFICIENT_RESOURCES. Volumes are dropped (bare metal declares them missing).
 */
export function bareMetalAdapter(resourceClass: string, hardware: NodeHardware, images = CONFORMANCE_IMAGES) {
  const extraSpecs = {
    [`resources:${customResourceClass(resourceClass)}`]: '1',
    'resources:VCPU': '0',
    'resources:MEMORY_MB': '0',
    'resources:DISK_GB': '0',
  };
  return (s: InstanceSpecInput): InstanceSpecInput => {
    const f: FlavorInput = s.flavor;
    const fits = f.vcpus <= hardware.cpus && f.memoryMb <= hardware.memoryMb && f.rootGb + (f.ephemeralGb ?? 0) <= hardware.localGb;
    return {
      ...s,
      flavor: fits ? { ...f, extraSpecs: { ...(f.extraSpecs ?? {}), ...extraSpecs } } : f,
      image: { ...images[Math.abs(hash(String(s.image?.id ?? ''))) % images.length]! },
      blockDeviceInfo: { ...(s.blockDeviceInfo ?? {}), volumes: [] },
    };
  };
}

const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' ? Number.parseInt(v, 10) : Number.NaN);

/**
 * Read the managed nodes' class and smallest hardware from Ironic (one list call) and adapt
 * generated specs to them. The run's images must exist where config.imageSourceTemplate
 * points (scripts/backends/ironic.sh creates them for the test Ironic). The backend hooks
 * (backend-hooks.ts) act on Ironic behind the driver's back: crash and out-of-band power off
 * through its API, losing the power state and restarting through the backend script when the
 * endpoint is one of the script's Ironics. The witness (witness.ts) lists the pool's nodes that
 * hold an instance, with a client of its own.
 */
export async function ironicConformanceFixtures(config: IronicDriverConfig): Promise<ConformanceFixtures> {
  const driver = new IronicDriver(config);
  await driver.initHost();
  try {
    const nodes = await driver.client.nodes.list({
      fields: ['resource_class', 'properties'],
      query: config.nodeFilter.resourceClass ? { resource_class: config.nodeFilter.resourceClass } : {},
    });
    const classes = [...new Set(nodes.map((n) => n.resource_class).filter((c): c is string => typeof c === 'string' && c.length > 0))];
    if (classes.length !== 1) {
      throw new Error(`conformance fixtures need the managed nodes to share one resource class (found: ${classes.join(', ') || 'none'}); set nodeFilter.resourceClass`);
    }
    const hardware: NodeHardware = { cpus: Infinity, memoryMb: Infinity, localGb: Infinity };
    for (const n of nodes) {
      const p = n.properties ?? {};
      hardware.cpus = Math.min(hardware.cpus, num(p['cpus']) || 0);
      hardware.memoryMb = Math.min(hardware.memoryMb, num(p['memory_mb']) || 0);
      hardware.localGb = Math.min(hardware.localGb, num(p['local_gb']) || 0);
    }
    const witness = ironicWitness(config);
    return {
      adaptSpec: bareMetalAdapter(classes[0]!, hardware),
      images: CONFORMANCE_IMAGES,
      backend: ironicBackendHooks(config, await findBackendScript(config.endpoint)),
      witness,
      cleanup: async () => {
        await witness.close?.();
      },
    };
  } finally {
    await driver.cleanupHost();
  }
}
