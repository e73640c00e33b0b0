import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/serve.js';

const PACKAGE = join(import.meta.dirname, '..');
const REPO_PROTO = join(PACKAGE, '../../proto');
const BIN = join(PACKAGE, 'node_modules/.bin');

function files(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.set(relative(root, path), readFileSync(path, 'utf8'));
    }
  };
  walk(root);
  return out;
}

const buf = (args: string[], cwd: string) =>
  execFileSync(join(BIN, 'buf'), args, { cwd, env: { ...process.env, PATH: `${BIN}:${process.env['PATH']}` }, encoding: 'utf8', stdio: 'pipe' });

describe('the committed generated code and shipped .proto files are what the proto/ folder gives today', () => {
  it('src/gen/ equals a fresh `buf generate` (run `pnpm proto:generate` after editing proto/)', () => {
    const tmp = tempDir('nova-agent-gen-');
    try {
      const template = join(tmp.dir, 'buf.gen.yaml');
      writeFileSync(
        template,
        ['version: v2', 'plugins:', '  - local: protoc-gen-es', `    out: ${join(tmp.dir, 'gen')}`, '    opt:', '      - target=ts', '      - import_extension=js', ''].join('\n'),
      );
      buf(['generate', '--template', template], REPO_PROTO);
      const fresh = files(join(tmp.dir, 'gen'));
      const committed = files(join(PACKAGE, 'src/gen'));
      expect([...committed.keys()].sort()).toStrictEqual([...fresh.keys()].sort());
      for (const [path, text] of fresh) expect(committed.get(path), path).toBe(text);
    } finally {
      tmp.remove();
    }
  });

  it('proto/ in the package equals the repository proto/ files', () => {
    const shipped = files(join(PACKAGE, 'proto'));
    const source = files(join(REPO_PROTO, 'nova_common'));
    expect([...shipped.keys()].sort()).toStrictEqual([...source.keys()].map((p) => join('nova_common', p)).sort());
    for (const [path, text] of source) expect(shipped.get(join('nova_common', path)), path).toBe(text);
  });

  it('buf lint (STANDARD) passes and the wire has no breaking change against the released 1.0 image', () => {
    expect(() => buf(['lint'], REPO_PROTO)).not.toThrow();
    expect(() => buf(['breaking', '--against', 'releases/compute-v1.binpb'], REPO_PROTO)).not.toThrow();
  });

  it('buf breaking catches a change of the wire (a renumbered field) against the released image', () => {
    const tmp = tempDir('nova-agent-breaking-');
    try {
      cpSync(REPO_PROTO, tmp.dir, { recursive: true });
      const file = join(tmp.dir, 'nova_common/compute/v1/instance.proto');
      const text = readFileSync(file, 'utf8');
      expect(text).toContain('string name = 2;');
      writeFileSync(file, text.replace('string name = 2;', 'string name = 12;'));
      let report = '';
      try {
        buf(['breaking', '--against', join(REPO_PROTO, 'releases/compute-v1.binpb')], tmp.dir);
      } catch (error) {
        report = String((error as { stdout?: string }).stdout) + String((error as { stderr?: string }).stderr);
      }
      expect(report).toMatch(/instance\.proto.*"name"/);
    } finally {
      tmp.remove();
    }
  });
});
