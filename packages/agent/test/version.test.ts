import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { remoteManifest } from '../src/client/manifest.js';
import { AGENT_VERSION } from '../src/version.js';

describe('versions', () => {
  it('AGENT_VERSION and the remote manifest carry package.json’s version', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../package.json'), 'utf8')) as { version: string };
    expect(AGENT_VERSION).toBe(pkg.version);
    expect(remoteManifest.version).toBe(pkg.version);
  });
});
