/** Help texts, one per command; `nova-conformance <command> --help` prints them on stdout. */

export const COMMANDS = ['run', 'list', 'sweep', 'matrix', 'site'] as const;
export type CommandName = (typeof COMMANDS)[number];

const DRIVER_LINES = `  --driver <driver>      The driver: a package name (resolved from the working directory),
                         a path to a package directory or module file, or \`reference\`
                         (the in-memory reference driver of @nova-common/core/testing).
  --config <file.json>   Driver configuration, validated by the driver's configSchema.`;

export const MAIN_HELP = `Usage: nova-conformance <command> [options]

Checks that a compute driver follows the nova-common contract, and reports it.

Commands:
  run      Run the conformance suite against a driver and write reports
  list     Show which properties would run for a driver, and which would be skipped and why
  sweep    Remove what an interrupted run left on a backend (by run id)
  matrix   Combine JSON reports into one support matrix (Markdown, HTML)
  site     Build a static results site from many JSON reports (matrix, history, failures)

Options:
  --help, -h      Show help (also after a command: nova-conformance run --help)
  --version, -v   Show the suite and contract versions

Exit codes: 0 passed, 1 a property failed or the driver broke, 2 usage or configuration error,
130 run interrupted (Ctrl-C).
`;

export const HELP: Record<CommandName, string> = {
  run: `Usage: nova-conformance run --driver <driver> [options]

Runs the conformance properties against the driver: generated operation sequences checked
against the semantics table, UNSUPPORTED checks for capabilities declared missing, and the
fault properties. Prints a summary on stdout and progress on stderr.

${DRIVER_LINES}
  --profile <id...>      Only generate commands of these profiles (core is always in).
                         Repeat the flag or list several: --profile power volumes
  --runs <n>             Generated sequences per property (default 20)
  --steps <n>            Most commands per sequence (default 25)
  --budget <n>steps|<n>s After the sequences, go on steering toward cells of the semantics
                         table not reached yet until all are or this much is spent: model
                         steps (5000steps) or time (60s, 500ms, 2m); default runs x steps
                         steps, 0steps turns it off
  --seed <n>             The seed; the same seed runs the same cases (default: random, reported)
  --max-instances <n>    Live instances at once (default 3)
  --only <id...>         Only these property ids
  --run-id <id>          Run id put in every instance's metadata (default: generated, reported);
                         \`nova-conformance sweep --run-id <id>\` removes what a crashed run left
  --label <text>         What this run is beyond the driver, e.g. its backend and host
                         ("QEMU/KVM on compute-12"); reported, and heads the run's matrix column
  --replay <file>        Re-run exactly the failing case recorded in a replay file
  --replay-dir <dir>     Where replay files of failures are written (default: beside
                         --json, else $TMPDIR/nova-conformance/replays)
  --differential <driver...>
                         Also run the same sequences against these drivers and report the
                         first step where their observable outcomes differ
  --differential-config <file.json...>
                         Configurations of the --differential drivers, in the same order
                         (a driver without one gets {})
  --peer-config <file.json>
                         A second host of the same driver (its own backend) for the two-host
                         migration properties (P-MIGRATE-*); the reference driver needs none
  --json <file>          Write the JSON report (its schema ships in this package:
                         @nova-common/conformance/schemas/report.schema.json)
  --junit <file>         Write a JUnit XML report
  --matrix <file.md>     Write the support matrix as Markdown
  --html <file.html>     Write the support matrix as a self-contained HTML page
  --help, -h             Show this help

Ctrl-C stops the run, removes what it made (its run id, as \`sweep\` does), writes the
reports of what finished and exits 130.

Exit codes: 0 every property passed, 1 a property failed (or a divergence, or the driver
broke), 2 usage or configuration error (unknown flag, driver not loadable, invalid config),
130 interrupted.
`,
  list: `Usage: nova-conformance list --driver <driver> [options]

Connects to the driver, reads the capabilities it declares and shows which properties a run
would check and which it would skip, and why, without running any.

${DRIVER_LINES}
  --profile <id...>      As for run: restrict to these profiles
  --only <id...>         As for run: only these property ids
  --peer-config <file.json>
                         As for run: the second host of the migration properties
  --help, -h             Show this help

Exit codes: 0 listed, 2 usage or configuration error.
`,
  sweep: `Usage: nova-conformance sweep --driver <driver> --run-id <id> [options]

Destroys every instance carrying the run id in its metadata (nova-conformance:run-id) and
deletes the snapshots the run made. Instances of other runs, and anything the suite did not
create, are left alone. Use it after an interrupted run against a real backend.

${DRIVER_LINES}
  --run-id <id>          The run id printed by \`run\` and recorded in its reports (required)
  --help, -h             Show this help

Exit codes: 0 swept, 1 something could not be removed, 2 usage or configuration error.
`,
  matrix: `Usage: nova-conformance matrix --json <a.json> [<b.json> ...] [--md <out.md>] [--html <out.html>]

Reads JSON reports written by \`run --json\` (several drivers, or several runs) and writes one
support matrix with the drivers side by side. Plug reports (written by the plug suites'
runner, e.g. \`nova-plug-conformance --json\` of @nova-common/plugs) add one table per plug
kind: the plug suite's properties by plug, what each accepts, and what could not run.
Without --md or --html it prints the matrix as a plain table on stdout.

  --json <file...>       JSON reports to combine (repeat the flag or list several)
  --md <file.md>         Write the matrix as Markdown
  --html <file.html>     Write the matrix as a self-contained HTML page
  --help, -h             Show this help

Exit codes: 0 written, 2 usage error (no report given, a file that is not a report).
`,
  site: `Usage: nova-conformance site --out <dir> [--title <text>] <report.json | dir>...

Builds a static site (plain HTML, no script, no external resource) from JSON reports written
by \`run --json\`: an index with the support matrix (one row per driver and backend, its
latest run; one column per capability), a page per driver with its runs over time, and a
page per run where every failure shows its rule, shrunk steps, replay command and replay file.
A directory stands for every *.json file under it (replay files are skipped).

  --out <dir>            Where to write the site (created when missing)
  --title <text>         The site's title (default "Conformance results")
  --help, -h             Show this help

A file that is not a valid report is named on stderr with each offending field, and the site
is still written from the other reports.

Exit codes: 0 written, 1 written but some files were not valid reports (left out),
2 usage error (no --out, no input, an input that cannot be read, no valid report at all).
`,
};
