import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { BackendHooks, ComputeDriver } from '@nova-common/core';
import { checkLabel, resolveOptions, type RunOptions, type SimulationHooks } from '../../config.js';
import type { DifferentialResult, RunResult } from '../../result.js';
import { printable, toReplaySummary, toTerminalSummary } from '../../report/terminal.js';
import { writeReports, type ReportFiles } from '../../report/write.js';
import { runConformance, runDifferential, runReplay } from '../engine.js';
import { budgetOption, intOption, listOption, parseCommandArgs, stringOption } from '../args.js';
import { loadDriverSource, readConfigFile, type DriverSource } from '../driver-source.js';
import { EXIT_FAIL, EXIT_INTERRUPTED, EXIT_PASS, UsageError, type CliIo } from '../io.js';
import { InterruptGate, onInterrupt, processInterrupts, type InterruptSource } from '../interrupt.js';
import { interruptedResult, recordFinished, sweepInterrupted, type Finished } from '../interrupted.js';
import { driverArgs, shellCommand } from '../../report/shell.js';
import { progressReporter } from '../progress.js';
import { DRIVER_OPTIONS, driverFromArgs, onlyOption, peerFromArgs, profilesOption } from './shared.js';

const INTERRUPTED = Symbol('interrupted');
/** How long an interrupted run waits for the driver calls in flight before sweeping. */
const DRAIN_MS = 30_000;

/** Exit at once (a second Ctrl-C); in-process callers that pass their own interrupts never get here. */
function exitNow(code: number): never {
  process.exit(code);
}

/** Every raw driver the factory makes goes through the gate. */
function gateFactory(gate: InterruptGate, factory: () => ComputeDriver): () => ComputeDriver {
  return () => gate.wrap(factory());
}

export async function runCommand(argv: string[], io: CliIo, interrupts: InterruptSource = processInterrupts): Promise<number> {
  const args = parseCommandArgs('run', argv, {
    ...DRIVER_OPTIONS,
    profile: { type: 'string', list: true },
    only: { type: 'string', list: true },
    runs: { type: 'string' },
    steps: { type: 'string' },
    budget: { type: 'string' },
    seed: { type: 'string' },
    'max-instances': { type: 'string' },
    'run-id': { type: 'string' },
    label: { type: 'string' },
    replay: { type: 'string' },
    'replay-dir': { type: 'string' },
    differential: { type: 'string', list: true },
    'differential-config': { type: 'string', list: true },
    'peer-config': { type: 'string' },
    json: { type: 'string' },
    junit: { type: 'string' },
    matrix: { type: 'string' },
    html: { type: 'string' },
  });
  const options = {
    runs: intOption('run', 'runs', args.runs, 1, 1_000_000),
    steps: intOption('run', 'steps', args.steps, 1, 10_000),
    budget: budgetOption('run', args.budget),
    seed: intOption('run', 'seed', args.seed, -0x80000000, 0x7fffffff),
    maxInstances: intOption('run', 'max-instances', args['max-instances'], 1, 64),
    runId: stringOption(args['run-id']),
    profiles: profilesOption('run', args.profile),
    only: onlyOption(args.only),
  };
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as typeof options;
  // The engine's own range checks, made before any driver is loaded so they are usage errors.
  // Seed and run id are fixed here, so they can be printed before anything runs: whatever
  // happens next, the run can be repeated and what it left can be swept.
  try {
    const resolved = resolveOptions(defined);
    defined.seed = resolved.seed;
    defined.runId = resolved.runId;
    checkLabel(stringOption(args.label));
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
  if (replay !== undefined && Object.values(files).some((f) => f !== undefined)) {
    throw new UsageError('--replay re-runs one recorded case and prints it; reports (--json, --junit, --matrix, --html) come from full runs', 'run');
  }
  // Replay files of failures go beside the JSON report, else where --replay-dir says, else under the temporary directory.
  const replayDir = pathOf(io, args['replay-dir']) ?? (files.json !== undefined ? dirname(files.json) : join(tmpdir(), 'nova-conformance', 'replays'));

  const source = await driverFromArgs('run', args, io);
  // Load every driver before running anything: a bad --differential is a usage error up front.
  const otherConfigs = listOption(args['differential-config']);
  if (otherConfigs.length > others.length) {
    throw new UsageError(`${otherConfigs.length} --differential-config files for ${others.length} --differential drivers`, 'run');
  }
  const otherSources: DriverSource[] = [];
  for (const [i, spec] of others.entries()) {
    otherSources.push(await loadDriverSource(spec, await readConfigFile('run', otherConfigs[i], io.cwd), io.cwd));
  }

  const fixtures = await source.fixtures();
  const { factory, simulate } = factoryOf(source, fixtures.backend);
  const peer = await peerFromArgs('run', source, args['peer-config'], io);
  const gate = new InterruptGate();
  const gated = { factory: gateFactory(gate, factory) };
  const identity = {
    name: source.manifest.name,
    version: source.manifest.version,
    description: source.manifest.description,
    config: source.rawConfig,
    module: source.module,
    ...(args.label === undefined ? {} : { label: stringOption(args.label) }),
  };
  const fixtureOptions = {
    contract: fixtures.contract ?? source.manifest.contract,
    ...(fixtures.adaptSpec ? { adaptSpec: fixtures.adaptSpec } : {}),
    ...(fixtures.volumeConnection ? { volumeConnection: fixtures.volumeConnection } : {}),
    ...(fixtures.images ? { images: fixtures.images } : {}),
    ...(fixtures.witness ? { witness: fixtures.witness } : {}),
  };
  try {
    if (replay !== undefined) {
      const outcome = await runReplay(replay, factory, { ...defined, ...identity, ...fixtureOptions, simulate });
      io.stdout.write(toReplaySummary(outcome, replay, { color: io.color }));
      return outcome.ok ? EXIT_PASS : EXIT_FAIL;
    }
    const progress = progressReporter(io);
    const finished: Finished = new Map();
    const record = recordFinished(finished);
    const runOptions: RunOptions = {
      ...defined,
      ...identity,
      ...fixtureOptions,
      driver: gated.factory,
      simulate,
      replayDir,
      ...(peer !== undefined ? { peer } : {}),
      onProgress: (event) => {
        // After Ctrl-C the engine only sees calls that never return: nothing it says counts.
        if (gate.interrupted) return;
        record(event);
        progress.onProgress(event);
      },
    };
    const sweepArgs = ['nova-conformance', 'sweep', ...driverArgs(source.specifier, source.configFile), '--run-id'];
    const sweepHint = (runId: string): string => shellCommand([...sweepArgs, runId]);
    io.stderr.write(printable(`run ${defined.runId}, seed ${defined.seed}: ${source.manifest.name} ${source.manifest.version}\n`));
    const startedAt = new Date();
    const t0 = performance.now();
    // Ctrl-C: stop the run at the driver, sweep what it made, report what finished, exit 130.
    const runIds = [defined.runId!];
    const interrupt = onInterrupt(interrupts, (count) => {
      gate.close();
      if (count === 1) {
        progress.stop();
        io.stderr.write('\ninterrupted: stopping the run and removing what it made (Ctrl-C again to leave it as it is)\n');
      } else {
        io.stderr.write(printable(`interrupted again; to remove what the run left: ${runIds.map(sweepHint).join('; ')}\n`));
        exitNow(EXIT_INTERRUPTED);
      }
    });
    const whenInterrupted = interrupt.first.then((): typeof INTERRUPTED => INTERRUPTED);
    /** After an interruption: sweep, then report what finished (the whole run when only the differential was cut short). */
    const cleanUp = async (complete: RunResult | undefined): Promise<number> => {
      if (!(await gate.drained(DRAIN_MS))) io.stderr.write(`calls still in flight after ${DRAIN_MS / 1000}s; sweeping anyway\n`);
      const swept = await sweepInterrupted(io, source, runIds);
      if (swept.left) io.stderr.write(printable(`something may be left; to remove it: ${runIds.map(sweepHint).join('; ')}\n`));
      const report = complete ?? interruptedResult({ options: runOptions, identity, startedAt, durationMs: performance.now() - t0, finished, caps: swept.caps });
      const written = await writeReports(report, files);
      const s = report.summary;
      io.stdout.write(`interrupted${complete === undefined ? '' : ' during the differential'}: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped or unfinished\n`);
      for (const [kind, path] of Object.entries(written)) io.stdout.write(`${kind} report: ${path}\n`);
      return EXIT_INTERRUPTED;
    };
    try {
      let result: RunResult;
      try {
        const outcome = await Promise.race([runConformance(runOptions), whenInterrupted]);
        if (outcome === INTERRUPTED) return await cleanUp(undefined);
        result = outcome;
      } catch (error) {
        progress.stop();
        if (gate.interrupted) return await cleanUp(undefined);
        io.stderr.write(printable(`the run broke; to remove what it left: ${sweepHint(defined.runId!)}\n`));
        throw error;
      }
      progress.stop();
      let differential: DifferentialResult | undefined;
      if (otherSources.length > 0) {
        const all = [source, ...otherSources];
        const names = labels(all);
        io.stderr.write(`differential: ${names.join(' vs ')}\n`);
        runIds.push(`${result.runId}-d`);
        const compared = runDifferential({
          ...defined,
          ...fixtureOptions,
          seed: result.seed,
          runId: `${result.runId}-d`,
          drivers: Object.fromEntries(all.map((s, i) => [names[i]!, s === source ? gated.factory : gateFactory(gate, factoryOf(s, undefined).factory)])),
        });
        const outcome = await Promise.race([compared, whenInterrupted]);
        if (outcome === INTERRUPTED) return await cleanUp(result);
        differential = outcome;
      }
      const written = await writeReports(result, files, { differential });
      io.stdout.write(toTerminalSummary(result, { color: io.color, differential, driverArgs: driverArgs(source.specifier, source.configFile) }));
      for (const [kind, path] of Object.entries(written)) io.stdout.write(`${kind} report: ${path}\n`);
      const failed = result.summary.failed > 0 || differential?.divergence !== undefined;
      return failed ? EXIT_FAIL : EXIT_PASS;
    } finally {
      interrupt.stop();
    }
  } finally {
    try {
      await fixtures.witness?.close?.();
    } finally {
      await fixtures.cleanup?.();
    }
  }
}

/** Driver names for the differential; the same driver twice gets #2, #3. */
function labels(sources: DriverSource[]): string[] {
  const seen = new Map<string, number>();
  return sources.map((s) => {
    const n = (seen.get(s.manifest.name) ?? 0) + 1;
    seen.set(s.manifest.name, n);
    return n === 1 ? s.manifest.name : `${s.manifest.name}#${n}`;
  });
}

function pathOf(io: CliIo, value: unknown): string | undefined {
  const s = stringOption(value);
  return s === undefined ? undefined : resolve(io.cwd, s);
}

interface SimulatingDriver extends ComputeDriver {
  simulateCrash?(uuid: string): void;
  simulateNoState?(uuid: string): void;
}

/**
 * The factory the engine calls for each fresh driver, and the crash / lost-state hooks: the
 * backend hooks the driver's conformance fixtures offer (contract 1.1), else the reference
 * driver's own simulate methods, acting on the raw driver last made.
 */
function factoryOf(source: DriverSource, backend: BackendHooks | undefined): { factory: () => ComputeDriver; simulate: SimulationHooks } {
  let current: SimulatingDriver | undefined;
  const factory = (): ComputeDriver => {
    current = source.createRaw() as SimulatingDriver;
    return current;
  };
  const target = (d: ComputeDriver): SimulatingDriver | undefined => {
    const s = d as SimulatingDriver;
    return typeof s.simulateCrash === 'function' ? s : current;
  };
  if (backend?.crash !== undefined || backend?.loseState !== undefined) {
    const simulate: SimulationHooks = {
      ...(backend.crash ? { crash: (_d: ComputeDriver, uuid: string) => backend.crash!(uuid) } : {}),
      ...(backend.loseState ? { noState: (_d: ComputeDriver, uuid: string) => backend.loseState!(uuid) } : {}),
    };
    return { factory, simulate };
  }
  const probe = source.manifest.name === '@nova-common/core/testing';
  const simulate: SimulationHooks = probe
    ? {
        crash: (d, uuid) => target(d)?.simulateCrash?.(uuid),
        noState: (d, uuid) => target(d)?.simulateNoState?.(uuid),
      }
    : {};
  return { factory, simulate };
}
