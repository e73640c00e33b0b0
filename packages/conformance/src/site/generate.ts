import { join, resolve } from 'node:path';
import { writeAtomic } from '../report/write.js';
import { renderDriverPage } from './driver-page.js';
import { renderIndexPage } from './index-page.js';
import type { LoadedReport } from './load.js';
import { buildSiteModel, type SiteModel, type SiteOptions } from './model.js';
import { renderRunPage } from './run-page.js';

/** The site's files: path relative to the site root (always `/`-separated, made of slugs) and content. */
export interface SiteFile {
  path: string;
  content: string;
}

/**
 * Every file of the site: index.html, drivers/<driver>.html, runs/<run>.html and
 * replays/<run>/<property>.json. Paths come from slugs (slug.ts), never from raw report strings.
 */
export function renderSite(model: SiteModel): SiteFile[] {
  const files: SiteFile[] = [{ path: 'index.html', content: renderIndexPage(model) }];
  for (const d of model.drivers) {
    files.push({ path: `drivers/${d.slug}.html`, content: renderDriverPage(model, d) });
    for (const run of d.runs) {
      files.push({ path: `runs/${run.slug}.html`, content: renderRunPage(model, run, d.slug) });
      for (const f of run.failures) {
        if (f.replayPath !== undefined) files.push({ path: f.replayPath, content: `${JSON.stringify(f.replay, null, 2)}\n` });
      }
    }
  }
  return files;
}

/**
 * Build the site from loaded reports and write it under `outDir` (created when missing; files
 * of an earlier site that this one does not have are left in place). Returns the model and the
 * absolute paths written.
 */
export async function generateSite(reports: readonly LoadedReport[], outDir: string, options: SiteOptions = {}): Promise<{ model: SiteModel; written: string[] }> {
  const model = buildSiteModel(reports, options);
  const root = resolve(outDir);
  const written: string[] = [];
  for (const f of renderSite(model)) written.push(await writeAtomic(join(root, ...f.path.split('/')), f.content));
  return { model, written };
}
