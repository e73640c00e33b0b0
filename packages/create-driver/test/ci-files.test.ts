import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO, run } from './helpers/outside.js';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  shell?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
const ACTION_DIR = join(REPO, '.github/actions/conformance');
const action = parse(readFileSync(join(ACTION_DIR, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }>; runs: { using: string; steps: Step[] } };
const workflow = parse(readFileSync(join(REPO, '.github/workflows/driver-conformance.yml'), 'utf8')) as {
  on: { workflow_call: { inputs: Record<string, { type: string; required?: boolean; default?: string }> } };
  jobs: Record<string, { steps: Step[] }>;
};
const SCRIPT = join(REPO, 'scripts/ci/driver-conformance.sh');

describe('the composite action', () => {
  const [runStep, uploadStep] = action.runs.steps;

  it('runs scripts/ci/driver-conformance.sh from its own checkout, inputs only as environment variables', () => {
    expect(action.runs.using).toBe('composite');
    expect(runStep!.run).toBe('bash "$GITHUB_ACTION_PATH/../../../scripts/ci/driver-conformance.sh"');
    expect(existsSync(resolve(ACTION_DIR, '../../../scripts/ci/driver-conformance.sh'))).toBe(true);
    expect(runStep!.run).not.toContain('${{');
    // Every input but the artifact's reaches the script, under a name the script reads.
    const script = readFileSync(SCRIPT, 'utf8');
    const env = runStep!.env!;
    for (const [name, value] of Object.entries(env)) {
      expect(value).toMatch(/^\$\{\{ inputs\.[a-z-]+ \}\}$/);
      expect(action.inputs, value).toHaveProperty(value.slice('${{ inputs.'.length, -' }}'.length));
      expect(script, name).toContain(`\${${name}:-`);
    }
    expect(Object.keys(action.inputs).filter((i) => !Object.values(env).includes(`\${{ inputs.${i} }}`))).toEqual(['artifact-name']);
  });

  it('uploads the reports directory as an artifact, also when the suite failed', () => {
    expect(uploadStep!.uses).toMatch(/^actions\/upload-artifact@v\d+$/);
    expect(uploadStep!.if).toBe('always()');
    expect(uploadStep!.with!['path']).toBe('${{ inputs.reports-directory }}');
    expect(uploadStep!.with!['name']).toBe('${{ inputs.artifact-name }}');
  });
});

describe('the reusable workflow', () => {
  const steps = workflow.jobs['conformance']!.steps;
  const inputs = workflow.on.workflow_call.inputs;

  it('is called with workflow_call and checks out nova-common where it runs the action from', () => {
    expect(inputs['nova-common-repository']).toMatchObject({ type: 'string', required: true });
    const checkout = steps.find((s) => s.with?.['repository'] !== undefined)!;
    expect(checkout.with).toMatchObject({ repository: '${{ inputs.nova-common-repository }}', ref: '${{ inputs.nova-common-ref }}', path: '.nova-common-ci' });
    expect(steps.at(-1)!.uses).toBe('./.nova-common-ci/.github/actions/conformance');
  });

  it("passes the action only inputs it declares, from the workflow's own inputs", () => {
    const passed = steps.at(-1)!.with!;
    for (const [name, value] of Object.entries(passed)) {
      expect(action.inputs, name).toHaveProperty(name);
      expect(inputs, value).toHaveProperty(value.slice('${{ inputs.'.length, -' }}'.length));
    }
  });
});

describe('driver-conformance.sh arguments', () => {
  it('--help exits 0; an unknown option, a bad number or a missing directory exit 2 before anything runs', () => {
    expect(run('bash', [SCRIPT, '--help'], REPO).code).toBe(0);
    const unknown = run('bash', [SCRIPT, '--nope'], REPO);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown option --nope');
    const runs = run('bash', [SCRIPT, '--runs', '5; touch /tmp/x'], REPO);
    expect(runs.code).toBe(2);
    expect(runs.stderr).toContain('--runs must be an integer');
    const dir = run('bash', [SCRIPT, '--driver-dir', '/nonexistent/driver'], REPO);
    expect(dir.code).toBe(2);
    expect(dir.stderr).toContain("--driver-dir '/nonexistent/driver' is not a directory");
  });
});
