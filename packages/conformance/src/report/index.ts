// The reporters: every one reads a RunResult (src/result.ts).
export { toJsonReport, formatJsonReport, parseJsonReport, redactSecrets, InvalidReportError, type JsonReportOptions } from './json.js';
export {
  JsonReportSchema,
  REPORT_SCHEMA_ID,
  REPORT_SCHEMA_VERSION,
  reportJsonSchema,
  type JsonReport,
} from './json-schema.js';
export { toJunitXml, type JunitOptions } from './junit.js';
export {
  computeSupportMatrix,
  type MatrixSource,
  type SupportMatrix,
  type MatrixColumn,
  type MatrixGroup,
  type MatrixRow,
  type MatrixCell,
  type MatrixEvidence,
  type MatrixOptions,
} from './matrix.js';
export { toMatrixMarkdown, renderMatrixMarkdown } from './matrix-markdown.js';
export { toMatrixHtml, renderMatrixHtml } from './matrix-html.js';
export { toTerminalSummary, toMatrixText, type TerminalOptions } from './terminal.js';
export { writeReports, type ReportFiles } from './write.js';
