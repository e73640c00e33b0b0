// The results site: many JSON reports as static HTML pages (see docs/results-site.md).
export { collectReportFiles, loadReports, describeProblem, SiteInputError, type LoadedReport, type LoadResult, type ReportProblem } from './load.js';
export { buildSiteModel, targetKey, type SiteModel, type SiteRun, type SiteTarget, type SiteDriver, type SiteFailure, type SiteOptions } from './model.js';
export { renderSite, generateSite, type SiteFile } from './generate.js';
export { slug } from './slug.js';
