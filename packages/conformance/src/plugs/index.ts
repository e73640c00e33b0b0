// The plug suite: properties every VIF plugin and volume connector must pass on a real host.
export { runVifPluginConformance, type VifPluginFixtures, type PlugSuiteOptions } from './vif-suite.js';
export { runVolumeConnectorConformance, type VolumeConnectorFixtures } from './volume-suite.js';
export type { PlugRunResult, PlugPropertyResult } from './result.js';
export { PLUG_REPORT_FORMAT, PlugReportSchema, plugReport, isPlugReport, parsePlugReport, type PlugReport } from './report.js';
export { computePlugMatrix, plugMatrixMarkdown, plugMatrixText, plugMatrixHtml } from './matrix.js';
