import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ConformanceFixtures, InstanceSpecInput } from '@nova-common/core';
import { containerBackendHooks } from './backend-hooks.js';
import type { ContainerDriverConfig } from './config.js';
import { containerWitness } from './witness.js';

/** The local image the backend script builds from busybox-static (no registry is reachable). */
export const CONFORMANCE_IMAGE = 'nova-common/busybox:latest';

/**
 * What a conformance run needs on a real engine: every generated spec runs the local base
 * image, every generated volume is a small real file under the configured volume root
 * (the only place the driver accepts bind mounts from), and the backend hooks act on the engine
 * directly (src/backend-hooks.ts), and the witness lists the engine's containers of this owner
 * (src/witness.ts). `cleanup` removes those files and closes the hooks' and the witness's connections.
 */
export function containerConformanceFixtures(config: ContainerDriverConfig, image = CONFORMANCE_IMAGE): ConformanceFixtures {
  const dir = path.join(config.volumeRoot, 'conformance');
  const backend = containerBackendHooks(config);
  const witness = containerWitness(config);
  return {
    backend: backend.hooks,
    witness,
    adaptSpec: (spec: InstanceSpecInput): InstanceSpecInput => ({ ...spec, image: { ...spec.image, id: image } }),
    volumeConnection: (volumeId: string) => {
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${volumeId}.img`);
      writeFileSync(file, Buffer.alloc(4096));
      return { driverVolumeType: 'file' as const, path: file };
    },
    images: [{ id: image, name: 'busybox', diskFormat: 'raw', containerFormat: 'docker' }],
    cleanup: async () => {
      rmSync(dir, { recursive: true, force: true });
      await backend.close();
      await witness.close?.();
    },
  };
}
