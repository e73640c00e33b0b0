import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTRACT_RANGE, DEPENDENCY_RANGES, DEV_DEPENDENCY_RANGES } from '../src/index.js';
import { REPO } from './helpers/outside.js';

type Pkg = { version: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
const pkg = (path: string): Pkg => JSON.parse(readFileSync(join(REPO, path), 'utf8')) as Pkg;

describe('what a generated driver depends on follows the workspace', () => {
  it('the current core and conformance, and the contract core implements', () => {
    const core = pkg('packages/core/package.json');
    expect(DEPENDENCY_RANGES['@nova-common/core']).toBe(`^${core.version}`);
    expect(DEV_DEPENDENCY_RANGES['@nova-common/conformance']).toBe(`^${pkg('packages/conformance/package.json').version}`);
    const contract = /CONTRACT_VERSION = '([0-9.]+)'/.exec(readFileSync(join(REPO, 'packages/core/src/version.ts'), 'utf8'))?.[1];
    expect(CONTRACT_RANGE).toBe(`^${contract}`);
  });

  it("zod in core's range, and the toolchain the workspace builds with", () => {
    expect(DEPENDENCY_RANGES.zod).toBe(pkg('packages/core/package.json').dependencies!['zod']);
    const root = pkg('package.json').devDependencies!;
    for (const tool of ['vitest', 'typescript', 'tsup', '@types/node'] as const) expect(DEV_DEPENDENCY_RANGES[tool], tool).toBe(root[tool]);
  });
});
