import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ScaffoldError } from './errors.js';
import { scaffold } from './scaffold.js';
import { DEFAULT_CI_SOURCE } from './versions.js';

const HELP = `Usage: create-driver <dir> [--name <npm-name>] [--description <text>] [--ci-source <owner/repo@ref>]
       npm create @nova-common/driver <dir> -- [options]

Writes a new nova-common compute driver package into <dir> (which must not exist or be
empty): a driver over a tiny in-memory backend that passes the conformance suite, its
manifest and zod configuration schema, vitest tests, a README and a GitHub Actions workflow.

Options:
  --name <npm-name>           The package name (default: the directory's name)
  --description <text>        One line on what the driver drives
  --ci-source <owner/repo@ref>
                              Where the CI workflow takes nova-common's reusable conformance
                              workflow from (default ${DEFAULT_CI_SOURCE})
  --help, -h                  Show this help
  --version, -v               Show the version

Exit codes: 0 written, 2 bad arguments (the message names the field).
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[], out: { write(s: string): unknown } = process.stdout, err: { write(s: string): unknown } = process.stderr): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        name: { type: 'string' },
        description: { type: 'string' },
        'ci-source': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    err.write(`create-driver: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out.write(HELP);
    return 0;
  }
  if (values.version) {
    out.write(`${version()}\n`);
    return 0;
  }
  try {
    if (positionals.length !== 1) throw new ScaffoldError('USAGE', 'dir', positionals.length === 0 ? 'give the directory to create' : `one directory, got ${positionals.length}`);
    const result = await scaffold({
      dir: positionals[0]!,
      ...(values.name !== undefined ? { name: values.name } : {}),
      ...(values.description !== undefined ? { description: values.description } : {}),
      ...(values['ci-source'] !== undefined ? { ciSource: values['ci-source'] } : {}),
    });
    out.write(`Wrote ${result.name} into ${result.dir} (${result.files.length} files).\n\nNext:\n  cd ${JSON.stringify(result.dir)}\n  npm install\n  npm test\n`);
    return 0;
  } catch (error) {
    if (error instanceof ScaffoldError) {
      err.write(`create-driver: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
