/**
 * Writes schemas/<name>.schema.json for every public data schema.
 * Run: pnpm --filter @nova-common/core schemas:write
 *
 * Run with tsx so it reads the TypeScript sources directly: the schemas on disk then
 * always come from src/, never from a stale dist/ build.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildJsonSchemas, serialise } from './json-schemas.js';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas');
mkdirSync(outDir, { recursive: true });

const schemas = buildJsonSchemas();
// Remove files of schemas that no longer exist, so the folder mirrors the sources exactly.
for (const name of readdirSync(outDir)) {
  if (name.endsWith('.schema.json') && !schemas.has(name)) rmSync(join(outDir, name));
}
for (const [name, schema] of schemas) writeFileSync(join(outDir, name), serialise(schema));
console.log(`wrote ${schemas.size} JSON Schemas to ${outDir}`);
