import { resolve } from 'node:path';
import type { ComputeDriver } from '@nova-common/core';
import { resolveOptions, type RunOptions, type SimulationHooks } from '../../config.js';
import type { DifferentialResult, RunResult } from '../../result.js';
import { toTerminalSummary } from '../../report/terminal.js';
import { writeReports, type ReportFiles } from '../../report/write.js';
import { runConformance, runDifferential, runReplay } from '../engine.js';
import { intOption, listOption, parseCommandArgs, stringOption } from '../args.js';
import { loadDriverSource, type DriverSource } from '../driver-source.js';
import { EXIT_FAIL, EXIT_PASS, UsageError, type CliIo } from '../io.js';
import { progressReporter } from '../progress.js';
import { DRIVER_OPTIONS, driverFromArgs, onlyOption, profilesOption } from './shared.js';

export async function runCommand(argv: string[], io: CliIo): Promise<number> {
  const args = parseCommandArgs('run', argv, {
    ...DRIVER_OPTIONS,
    profile: { type: 'string', list: true },
    only: { type: 'string', list: true },
    runs: { type: 'string' },
    steps: { type: 'string' },
    seed: { type: 'string' },
    'max-instances': { type: 'string' },
    'run-id': { type: 'string' },
    replay: { type: 'string' },
    differential: { type: 'string', list: true },
    json: { type: 'string' },
    junit: { type: 'string' },
    matrix: { type: 'string' },
    html: { type: 'string' },
  });
  const options = {
    runs: intOption('run', 'runs', args.runs, 1, 1_000_000),
    steps: intOption('run', 'steps', args.steps, 1, 10_000),
    seed: intOption('run', 'seed', args.seed, -0x80000000, 0x7fffffff),
    maxInstances: intOption('run', 'max-instances', args['max-instances'], 1, 64),
    runId: stringOption(args['run-id']),
    profiles: profilesOption('run', args.profile),
    only: onlyOption(args.only),
  };
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as typeof options;
  // The engine's own range checks, made before any driver is loaded so they are usage errors.
  try {
    resolveOptions(defined);
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message, 'run');
    throw error;
  }
  const files: ReportFiles = {
    json: pathOf(io, args.json),
    junit: pathOf(io, args.junit),
    markdown: pathOf(io, args.matrix),
    html: pathOf(io, args.html),
  };
  const replay = pathOf(io, args.replay);
  const others = listOption(args.differential);
  if (replay !== undefined && others.length > 0) throw new UsageError('--replay and --differential cannot be combined', 'run');

  const source = await driverFromArgs('run', args, io);
  // Load every driver before running anything: a bad --differential is a usage error up front.
  const otherSources: DriverSource[] = [];
  for (const spec of others) otherSources.push(await loadDriverSource(spec, {}, io.cwd));

  const fixtures = await source.fixtures();
  let result: RunResult;
  let differential: DifferentialResult | undefined;
  try {
    if (replay !== undefined) {
      io.stderr.write(`replaying ${replay}\n`);
      result = await runReplay(replay, factoryOf(source).factory);
    } else {
      const { factory, simulate } = factoryOf(source);
      const runOptions: RunOptions = {
        ...defined,
        driver: factory,
        name: source.manifest.name,
        version: source.manifest.version,
        description: source.manifest.description,
        config: source.rawConfig,
        module: source.module,
        simulate,
        onProgress: progressReporter(io),
        ...(fixtures.adaptSpec ? { adaptSpec: fixtures.adaptSpec } : {}),
        ...(fixtures.volumeConnection ? { volumeConnection: fixtures.volumeConnection } : {}),
        ...(fixtures.images ? { images: fixtures.images } : {}),
      };
      result = await runConformance(runOptions);
      if (otherSources.length > 0) {
        io.stderr.write(`differential: ${[source, ...otherSources].map((s) => s.manifest.name).join(' vs ')}\n`);
        differential = await runDifferential({
          drivers: [source, ...otherSources].map((s) => ({ name: labelOf(s), factory: factoryOf(s).factory })),
          runs: defined.runs,
          steps: defined.steps,
          seed: result.seed,
          runId: `${result.runId}-diff`,
        });
      }
    }
  } finally {
    await fixtures.cleanup?.();
  }

  const written = await writeReports(result, files, { differential });
  io.stdout.write(toTerminalSummary(result, { color: io.color, differential, driverSpecifier: source.specifier }));
  for (const [kind, path] of Object.entries(written)) io.stdout.write(`${kind} report: ${path}\n`);
  const failed = result.summary.failed > 0 || differential?.divergence !== undefined;
  return failed ? EXIT_FAIL : EXIT_PASS;
}

function pathOf(io: CliIo, value: unknown): string | undefined {
  const s = stringOption(value);
  return s === undefined ? undefined : resolve(io.cwd, s);
}

function labelOf(source: DriverSource): string {
  return source.manifest.name;
}

interface SimulatingDriver extends ComputeDriver {
  simulateCrash?(uuid: string): void;
  simulateNoState?(uuid: string): void;
}

/**
 * The factory the engine calls for each fresh driver, and the crash / lost-state hooks when
 * the driver offers them (the reference driver does): they act on the raw driver last made.
 */
function factoryOf(source: DriverSource): { factory: () => ComputeDriver; simulate: SimulationHooks } {
  let current: SimulatingDriver | undefined;
  const factory = (): ComputeDriver => {
    current = source.createRaw() as SimulatingDriver;
    return current;
  };
  const target = (d: ComputeDriver): SimulatingDriver | undefined => {
    const s = d as SimulatingDriver;
    return typeof s.simulateCrash === 'function' ? s : current;
  };
  const probe = source.manifest.name === '@nova-common/core/testing';
  const simulate: SimulationHooks = probe
    ? {
        crash: (d, uuid) => target(d)?.simulateCrash?.(uuid),
        noState: (d, uuid) => target(d)?.simulateNoState?.(uuid),
      }
    : {};
  return { factory, simulate };
}
