import { guard } from '@nova-common/core';
import { printable } from '../../report/terminal.js';
import { requireOption, parseCommandArgs } from '../args.js';
import { sweep } from '../engine.js';
import { EXIT_FAIL, EXIT_PASS, UsageError, type CliIo } from '../io.js';
import { DRIVER_OPTIONS, driverFromArgs } from './shared.js';

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `sweep`: remove what a run left behind, found by its run id, and nothing else. */
export async function sweepCommand(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs('sweep', argv, { ...DRIVER_OPTIONS, 'run-id': { type: 'string' } });
  const runId = requireOption('sweep', 'run-id', args['run-id']);
  if (!RUN_ID.test(runId)) throw new UsageError(`--run-id must be 1-64 letters, digits, '.', '_' or '-', got ${JSON.stringify(runId)}`, 'sweep');
  const source = await driverFromArgs('sweep', args, io);
  const driver = guard(source.createRaw());
  await driver.initHost();
  let outcome: Awaited<ReturnType<typeof sweep>>;
  try {
    outcome = await sweep(driver, runId);
  } finally {
    await driver.cleanupHost();
  }
  for (const uuid of outcome.destroyed) io.stdout.write(printable(`destroyed instance ${uuid}\n`));
  for (const id of outcome.snapshotsDeleted) io.stdout.write(printable(`deleted snapshot ${id}\n`));
  for (const f of outcome.failures) io.stderr.write(printable(`could not remove ${f.target}: ${f.message}\n`));
  io.stdout.write(`swept run ${runId}: ${outcome.destroyed.length} instances destroyed, ${outcome.snapshotsDeleted.length} snapshots deleted, ${outcome.failures.length} failures\n`);
  return outcome.failures.length > 0 ? EXIT_FAIL : EXIT_PASS;
}
