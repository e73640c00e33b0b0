import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RunResult } from '../../src/result.js';

export const fixturesDir = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** A committed RunResult fixture, by file name without extension. */
export function loadFixture(name: 'reference-pass' | 'libvirt-failure' | 'ironic-filtered'): RunResult {
  return JSON.parse(readFileSync(`${fixturesDir}${name}.json`, 'utf8')) as RunResult;
}

/** Set UPDATE_GOLDEN=1 to rewrite goldens and the published schema from the current code. */
export const updateGolden = process.env.UPDATE_GOLDEN === '1';
