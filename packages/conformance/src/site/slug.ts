import { createHash } from 'node:crypto';

/**
 * File names of the site's pages come from report strings (driver names, labels, run ids),
 * which may hold anything: `/`, `..`, quotes, markup. A name keeps a readable part made only
 * of [a-z0-9-] and ends with a hash of the whole original, so two different strings never
 * share a file and no string can leave the output directory or need quoting in a URL.
 */
export function slug(...parts: string[]): string {
  const original = parts.join('\u0000');
  const readable = original
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/g, '');
  const hash = createHash('sha256').update(original, 'utf8').digest('hex').slice(0, 10);
  return readable === '' ? hash : `${readable}-${hash}`;
}
