import validate from 'validate-npm-package-name';
import { ScaffoldError } from './errors.js';

/**
 * A name npm accepts for a new package (lower case, URL-safe, at most 214 characters, no
 * leading dot or underscore, not a Node core module), else INVALID_ARGUMENT naming `field`.
 * A valid name holds only `a-z 0-9 - . _` and one `@scope/`, so it is safe in file names,
 * JSON, TypeScript string literals, Markdown and YAML alike.
 */
export function checkPackageName(name: string, field = 'name'): string {
  const verdict = validate(name);
  if (!verdict.validForNewPackages) {
    const problems = [...(verdict.errors ?? []), ...(verdict.warnings ?? [])];
    throw new ScaffoldError('INVALID_ARGUMENT', field, `${JSON.stringify(name)} is not a valid npm package name: ${problems.join('; ')}`);
  }
  // npm allows "~" and some punctuation in scope and name parts; the scaffold keeps to the plain set.
  if (!/^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/.test(name)) {
    throw new ScaffoldError('INVALID_ARGUMENT', field, `${JSON.stringify(name)} must use only a-z, 0-9, "-", "." and "_" (with an optional @scope/)`);
  }
  return name;
}

/** One line of plain text, at most 200 characters, no control characters. */
export function checkDescription(text: string, field = 'description'): string {
  if (text.trim() === '') throw new ScaffoldError('INVALID_ARGUMENT', field, 'must not be empty');
  if (text.length > 200) throw new ScaffoldError('INVALID_ARGUMENT', field, `must be at most 200 characters (got ${text.length})`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\u2028\u2029]/.test(text)) throw new ScaffoldError('INVALID_ARGUMENT', field, 'must be one line without control characters');
  return text;
}

/** Where the generated CI workflow takes nova-common's reusable workflow from: `owner/repo@ref`. */
export interface CiSource {
  readonly repository: string;
  readonly ref: string;
}

/** Parse `owner/repo@ref` with GitHub's characters for each part, else INVALID_ARGUMENT naming `field`. */
export function parseCiSource(text: string, field = 'ciSource'): CiSource {
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100})@([A-Za-z0-9._-][A-Za-z0-9._/-]{0,99})$/.exec(text);
  if (m === null || m[1]!.split('/')[1]!.startsWith('.') || m[2]!.includes('..')) {
    throw new ScaffoldError('INVALID_ARGUMENT', field, `${JSON.stringify(text)} must be owner/repository@ref (e.g. nova-common/nova-common@main)`);
  }
  return { repository: m[1]!, ref: m[2]! };
}
