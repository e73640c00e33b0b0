import { runConformance, runDifferential, type ConformanceOptions, type DifferentialResult, type RunResult } from '@nova-common/conformance';
import { formatCounterexample } from '@nova-common/conformance/vitest';
import type { ComputeDriver } from '@nova-common/core';
import { RemoteDriverConfigSchema } from '../../src/client/config.js';
import { remoteManifest } from '../../src/client/manifest.js';
import { createRemoteDriver } from '../../src/client/remote-driver.js';
import { packageFixtures, type ServedPackage } from './real-backends.js';

/**
 * The conformance suite through the agent: the remote driver on the agent's socket is the driver
 * under test, held to the served driver's contract range (the remote manifest's fixtures), with
 * the served package's own fixtures (images, volumes, backend hooks) built for its configuration.
 */
export async function conformanceThroughAgent(served: ServedPackage, driver: string, config: unknown, options: ConformanceOptions & { seed: number }): Promise<RunResult> {
  const { contract } = await remoteManifest.conformanceFixtures!(RemoteDriverConfigSchema.parse({ endpoint: served.endpoint }));
  const { fixtures, simulate } = await packageFixtures(driver, config);
  try {
    return await runConformance({
      name: `${driver} through nova-agent`,
      driver: () => createRemoteDriver({ endpoint: served.endpoint }),
      ...(contract === undefined ? {} : { contract }),
      ...(fixtures.adaptSpec ? { adaptSpec: fixtures.adaptSpec } : {}),
      ...(fixtures.volumeConnection ? { volumeConnection: fixtures.volumeConnection } : {}),
      ...(fixtures.images ? { images: fixtures.images } : {}),
      simulate,
      ...options,
    });
  } finally {
    await fixtures.cleanup?.();
  }
}

/** Each failed property with its counterexample, as the vitest integration prints it. */
export function failuresOf(result: RunResult): string[] {
  return result.properties.filter((p) => p.status === 'failed').map((p) => (p.counterexample ? formatCounterexample(p, p.counterexample) : `${p.id}: ${p.reason ?? 'failed'}`));
}

/**
 * Differential lockstep of the driver in this process and the same driver behind the agent
 * (same seed, same generated calls): the first step where they answer differently, if any.
 */
export async function localVersusRemote(local: () => ComputeDriver, served: ServedPackage, options: ConformanceOptions & { seed: number }): Promise<DifferentialResult> {
  return runDifferential({ drivers: { local, remote: () => createRemoteDriver({ endpoint: served.endpoint }) }, ...options });
}

/** A divergence as a readable failure: the step, each side's outcome and the program that replays it. */
export function divergenceOf(result: DifferentialResult): string | undefined {
  const d = result.divergence;
  if (d === undefined) return undefined;
  return [`local and remote diverge at step ${d.stepIndex + 1} (${d.step.op}), seed ${d.seed}`, ...Object.entries(d.outcomes).map(([n, o]) => `  ${n}: ${JSON.stringify(o)}`), '', d.program].join('\n');
}
