import { build } from 'tsup';
import config from '../tsup.config.js';

/**
 * The CLI and loader tests run the package as it ships (dist/), so build it first: the same
 * bundles as `pnpm build`, without the type declarations (slow, and not what runs).
 */
export default async function setup(): Promise<void> {
  const options = Array.isArray(config) ? config[0] : config;
  await build({ ...(options as object), dts: false, clean: false, silent: true, config: false });
}
