import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';

export interface CliRun {
  code: number;
  cwd: string;
  stdout: string;
  stderr: string;
}

/** Call the CLI in-process with captured streams, in `cwd` (default: a fresh temporary directory). */
export async function runCli(argv: string[], options: { cwd?: string; stderrIsTTY?: boolean } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stderrIsTTY: options.stderrIsTTY ?? false,
    color: false,
    cwd: options.cwd ?? tempDir(),
    env: {},
  };
  const code = await main(argv, io);
  return { code, cwd: io.cwd, stdout, stderr };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'nova-conformance-cli-'));
}
