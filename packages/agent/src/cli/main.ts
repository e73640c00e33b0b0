import { DriverLoadError } from '@nova-common/core';
import { ListenError } from '../server/listen-address.js';
import { loadPlug, PlugLoadError } from '@nova-common/core/plugs';
import { createLogger } from '../server/logger.js';
import { serveDriver } from '../server/serve-driver.js';
import { parseServe, UsageError, USAGE } from './args.js';

/**
 * `nova-agent serve ...`. Exit codes: 0 after a clean shutdown (SIGTERM, SIGINT), 2 for a usage,
 * load (driver or plug) or listen error (nothing was served), 1 for anything else.
 */
export async function main(argv: string[], cwd = process.cwd()): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'serve') {
    process.stderr.write(`nova-agent: unknown command ${command}\n${USAGE}`);
    return 2;
  }
  let served;
  try {
    const parsed = await parseServe(rest, cwd);
    const logger = createLogger(parsed.logLevel);
    if (parsed.options.stateDir === undefined) logger.warn('no --state-dir: request ids are remembered in memory only, so a retry after a restart may act twice');
    // The plugs load before the driver: a plug that does not load leaves nothing started.
    const vifPlugin = parsed.vifPlugin === undefined ? undefined : await loadPlug('vif', parsed.vifPlugin.specifier, parsed.vifPlugin.config, cwd);
    const volumeConnector = parsed.volumeConnector === undefined ? undefined : await loadPlug('volume', parsed.volumeConnector.specifier, parsed.volumeConnector.config, cwd);
    served = await serveDriver(parsed.driver, parsed.config, {
      ...parsed.options,
      ...(vifPlugin === undefined ? {} : { vifPlugin }),
      ...(volumeConnector === undefined ? {} : { volumeConnector }),
      logger,
    });
  } catch (error) {
    if (error instanceof UsageError || error instanceof ListenError || error instanceof DriverLoadError || error instanceof PlugLoadError) {
      process.stderr.write(`nova-agent: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`nova-agent: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
  const { agent, driverName } = served;
  process.stdout.write(JSON.stringify({ ready: true, driver: driverName, addresses: agent.addresses, metricsPort: agent.metricsPort }) + '\n');
  return new Promise<number>((resolve) => {
    let signals = 0;
    const stop = () => {
      if (++signals > 1) {
        resolve(1);
        return;
      }
      agent.shutdown().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
