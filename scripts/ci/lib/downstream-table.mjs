// The compatibility table downstream.sh prints: one row per driver, as Markdown.
const COLUMNS = [
  ['driver', (r) => r.name],
  ['kind', (r) => r.kind],
  ['tests', (r) => r.tests],
  ['conformance', (r) => r.conformance],
  ['properties', (r) => r.properties],
  ['table cells reached', (r) => r.cells],
  ['supported capabilities', (r) => r.capabilities],
  ['time', (r) => `${r.seconds} s`],
];

/** A Markdown table, columns padded so it also reads as plain text; `|` in a value is escaped. */
export function formatTable(rows) {
  const cells = rows.map((r) => COLUMNS.map(([, get]) => String(get(r)).replace(/\|/g, '\\|').replace(/\s+/g, ' ')));
  const widths = COLUMNS.map(([title], i) => Math.max(title.length, ...cells.map((c) => c[i].length)));
  const line = (values) => `| ${values.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  return [
    line(COLUMNS.map(([title]) => title)),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...cells.map(line),
    '',
  ].join('\n');
}
