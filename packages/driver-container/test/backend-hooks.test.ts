import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKEND_SCRIPT_ENV, backendScript } from '../src/backend-hooks.js';

const REPO = path.resolve(import.meta.dirname, '../../..');

describe('the script restartBackend runs', () => {
  afterEach(() => {
    delete process.env[BACKEND_SCRIPT_ENV];
  });

  it("is the repository's scripts/backends/<engine>.sh found above the working directory", () => {
    expect(backendScript('docker', path.join(REPO, 'packages', 'driver-container'))).toBe(path.join(REPO, 'scripts/backends/docker.sh'));
    expect(backendScript('podman', REPO)).toBe(path.join(REPO, 'scripts/backends/podman.sh'));
  });

  it(`is ${BACKEND_SCRIPT_ENV} when set, and an error saying so when nothing is found`, () => {
    expect(() => backendScript('docker', '/')).toThrow(new RegExp(BACKEND_SCRIPT_ENV));
    process.env[BACKEND_SCRIPT_ENV] = '/opt/engine/restart.sh';
    expect(backendScript('docker', '/')).toBe('/opt/engine/restart.sh');
  });
});
