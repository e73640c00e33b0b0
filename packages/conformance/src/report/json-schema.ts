import { z } from 'zod';

/**
 * The JSON report's schema, written once in zod: the JSON Schema published at
 * schemas/report.schema.json is generated from it (z.toJSONSchema), and `nova-conformance
 * matrix` parses reports back with it. It mirrors RunResult (src/result.ts) field by field;
 * a type test keeps the two aligned.
 *
 * Ids of capabilities, profiles, rules and error codes are plain strings here, not the
 * closed enums of the running core: a report written by a newer suite (with capabilities
 * added in a later contract minor) must still be readable by an older `matrix` command.
 */

/** Bumped on a breaking change to the report's shape; additions bump the minor. */
export const REPORT_SCHEMA_VERSION = '1.2.0';

/**
 * Where the report's schema is, as reports carry it in `$schema`: the file this package ships
 * (package.json `files` and `exports`), named by its package path, which `require.resolve` /
 * `import.meta.resolve` turn into the installed file. No URL: nothing is published at one.
 */
export const REPORT_SCHEMA_ID = '@nova-common/conformance/schemas/report.schema.json';

const capabilityId = z
  .string()
  .min(1)
  .describe('A capability id from the contract catalog (Nova support-matrix ids), e.g. `operation.pause`.');
const profileId = z.string().min(1).describe('A profile id, e.g. `core`, `power`, `volumes`.');
const supportLevel = z.enum(['complete', 'partial', 'missing']).describe('What the driver declares for the capability.');

const MatrixStatusSchema = z
  .enum(['complete', 'partial', 'missing', 'unknown'])
  .describe(
    'complete: declared supported, every one of its operations called, and every property exercising it passed. ' +
      'partial: declared partial, or a property that exercised it failed. missing: declared missing and verified UNSUPPORTED. ' +
      'unknown: not judged (not run, filtered out, not every operation called, or not verified).',
  );

const CapabilityResultSchema = z
  .object({
    id: capabilityId,
    declared: supportLevel,
    status: MatrixStatusSchema,
    evidence: z.array(z.string()).describe('Ids of the properties whose runs exercised this capability.'),
    notes: z.string().optional().describe('The driver\'s caveat for a partial capability, or why the status is what it is.'),
  })
  .describe('The support-matrix status of one capability, with its evidence.');

const stepOutcomeExpected = z.union([
  z.object({ ok: z.literal(true), detail: z.unknown().optional() }),
  z.object({ ok: z.literal(false), error: z.string().describe('The error code the semantics table requires.') }),
]);
const stepOutcomeActual = z.union([
  z.object({ ok: z.literal(true), detail: z.unknown().optional() }),
  z.object({
    ok: z.literal(false),
    error: z.string().describe('The error code (or error name) the driver raised.'),
    message: z.string().optional(),
  }),
]);

const StepRecordSchema = z
  .object({
    op: z.string().describe('The operation called, e.g. `pause`.'),
    args: z.array(z.unknown()).describe('Its arguments, as JSON.'),
    expected: stepOutcomeExpected.optional().describe('What the model expected.'),
    actual: stepOutcomeActual.optional().describe('What the driver did.'),
  })
  .describe('One step of a counterexample.');

const ReplayDocumentSchema = z
  .object({
    format: z.literal('nova-conformance-replay'),
    version: z.literal(1),
    suiteVersion: z.string(),
    contractVersion: z.string(),
    property: z.string().describe('The property that failed.'),
    rule: z.string().optional(),
    message: z.string(),
    seed: z.number(),
    path: z.string(),
    runId: z.string().describe('The run id the calls carry in names and metadata; a replay reuses it.'),
    driver: z
      .object({
        name: z.string().optional(),
        module: z.string().optional(),
        exportName: z.string().optional(),
        config: z.unknown().optional(),
      })
      .optional(),
    calls: z.array(z.record(z.string(), z.unknown())).describe('The calls of the shrunk counterexample, in order: `{ op, ...arguments }`.'),
  })
  .describe('A replay file\'s content: `nova-conformance run --replay <file>` re-runs exactly these calls.');

const CounterexampleSchema = z
  .object({
    seed: z.number().describe('The seed that reproduces the failure.'),
    path: z.string().describe('fast-check\'s replay path.'),
    steps: z.array(StepRecordSchema).describe('The shrunk, minimal command sequence.'),
    program: z.string().describe('The same sequence as a runnable TypeScript program.'),
    replayFile: z.string().optional().describe('Where the replay file was written, when it was.'),
    replay: ReplayDocumentSchema.optional().describe('The replay file\'s content, so the report alone is enough to replay.'),
    rule: z.string().optional().describe('The rule id violated.'),
    message: z.string().describe('What went wrong.'),
  })
  .describe('A minimal failing run.');

const PropertyResultSchema = z
  .object({
    id: z.string().describe('Stable property id, e.g. `P-MODEL-SEQUENCES`.'),
    title: z.string(),
    since: z.string().describe('The contract version this property was introduced in.'),
    rules: z.array(z.string()).describe('Rule ids this property checks.'),
    capabilities: z.array(capabilityId).describe('Capabilities this property exercises.'),
    status: z.enum(['passed', 'failed', 'skipped']),
    reason: z.string().optional().describe('Why skipped, when skipped.'),
    runs: z.number().int().min(0).describe('Runs (generated cases) executed.'),
    steps: z.number().int().min(0).describe('Commands executed over all runs.'),
    durationMs: z.number().min(0),
    counterexample: CounterexampleSchema.optional(),
  })
  .describe('The outcome of one property.');

const DivergenceSchema = z
  .object({
    seed: z.number(),
    stepIndex: z.number().int().min(0).describe('Index of the first step whose outcomes differ.'),
    step: StepRecordSchema,
    outcomes: z.record(z.string(), z.unknown()).describe('Each driver\'s observable outcome at that step, by driver name.'),
    program: z.string().describe('The sequence up to the divergence as a runnable TypeScript program.'),
    path: z.string().optional().describe('fast-check\'s replay path (with `seed`).'),
    steps: z.array(StepRecordSchema).optional().describe('The shrunk sequence up to and including the diverging step.'),
  })
  .describe('The first step where two drivers\' observable outcomes differ.');

const DifferentialResultSchema = z
  .object({
    drivers: z.array(z.string()).describe('The drivers compared, by name.'),
    runs: z.number().int().min(0),
    steps: z.number().int().min(0),
    seed: z.number(),
    durationMs: z.number().min(0),
    divergence: DivergenceSchema.optional(),
  })
  .describe('A differential run: the same command sequences against several drivers.');

const CoverageSchema = z
  .object({
    cellsReached: z.number().int().min(0).describe('Reachable cells of the semantics table the table walk and the sequences called.'),
    cellsReachable: z
      .number()
      .int()
      .min(0)
      .describe(
        'Cells (state row x operation column) the run could reach: the column\'s operation and capability declared (and kept by the profile filter), ' +
          'the row\'s state reachable with them; CRASHED and NOSTATE only with the simulation hooks.',
      ),
    missing: z.array(z.object({ state: z.string(), column: z.string() })).describe('Reachable cells never called.'),
    errorPaths: z
      .record(z.string(), z.record(z.string(), z.number().int().min(0)))
      .describe('Per operation: each error code the model expected of it (and the suite checked), with how many calls.'),
    steeredRuns: z.number().int().min(0).describe('Sequences run by steering rounds, after the configured ones, aimed at missing cells.'),
    budget: z.string().describe('The steering budget, as `5000 steps` or `60s`.'),
  })
  .describe('How much of the semantics table the run exercised.');

export const JsonReportSchema = z
  .object({
    $schema: z
      .string()
      .describe(
        'Where this report\'s JSON Schema is: the package path @nova-common/conformance/schemas/report.schema.json (the file ships in the package; ' +
          'resolve it with require.resolve or import.meta.resolve). Reports of earlier suites may carry a URL here.',
      ),
    schemaVersion: z
      .string()
      .regex(/^1\.\d+\.\d+$/)
      .describe('The version of the report format (semver); readers accept any 1.x.'),
    suiteVersion: z.string().describe('The @nova-common/conformance version that ran.'),
    contractVersion: z.string().describe('The contract version (CONTRACT_VERSION) the suite checked against.'),
    driver: z
      .object({
        name: z.string(),
        version: z.string(),
        description: z.string().optional(),
        label: z
          .string()
          .optional()
          .describe('What the run is beyond the driver, usually its backend and host; the support matrix heads the column with it.'),
        config: z.unknown().optional().describe('The driver configuration used, when it is safe to publish.'),
      })
      .describe('The driver under test.'),
    environment: z
      .object({
        node: z.string(),
        platform: z.string(),
        arch: z.string(),
        hostname: z.string(),
        ci: z.boolean(),
      })
      .describe('Where the run happened.'),
    startedAt: z.string().describe('ISO 8601 timestamp.'),
    durationMs: z.number().min(0),
    seed: z.number().describe('The run seed; pass it as --seed to run the same cases again.'),
    runId: z.string().describe('The run id put in every instance\'s metadata; `nova-conformance sweep` takes it.'),
    options: z
      .object({
        runs: z.number().int().min(0),
        steps: z.number().int().min(0),
        profiles: z.union([z.array(profileId), z.literal('all')]),
        maxInstances: z.number().int().min(0),
      })
      .describe('The options the run used.'),
    profiles: z.array(z.object({ id: profileId, supported: z.boolean() })).describe('Each profile and whether the driver supports all of it.'),
    capabilities: z.array(CapabilityResultSchema).describe('Per-capability status: the support matrix column of this driver.'),
    properties: z.array(PropertyResultSchema).describe('Per-property runs.'),
    summary: z.object({
      passed: z.number().int().min(0),
      failed: z.number().int().min(0),
      skipped: z.number().int().min(0),
    }),
    stats: z
      .object({
        steps: z.number().int().min(0).describe('Calls judged against the model.'),
        calls: z.number().int().min(0).describe('Every driver call, observations included.'),
        modelMs: z.number().min(0).describe('Time spent in the model sequences.'),
      })
      .optional()
      .describe('Work done by the run.'),
    coverage: CoverageSchema.optional().describe('Cells of the semantics table and error paths reached; absent when no model sequence ran.'),
    differential: DifferentialResultSchema.optional().describe('Present when the run was also compared with other drivers.'),
  })
  .describe('A nova-conformance report: one run of the conformance suite against one driver.');

export type JsonReport = z.infer<typeof JsonReportSchema>;

/**
 * The JSON Schema (draft 2020-12) of the report, as shipped in schemas/report.schema.json. It
 * has no `$id`: an `$id` is a URI, and the schema is not published at one.
 */
export function reportJsonSchema(): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(JsonReportSchema, { target: 'draft-2020-12', io: 'output', unrepresentable: 'any' });
  return { $schema, title: 'nova-conformance report', ...rest };
}
