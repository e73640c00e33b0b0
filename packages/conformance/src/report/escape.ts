/**
 * Escaping for the text formats the reporters write. Written by hand because each is a
 * few lines over the spec's exact character set; a templating library would add a
 * dependency to do the same.
 */

/**
 * Characters XML 1.0 cannot carry at all, not even as character references: C0 controls
 * except TAB/LF/CR, lone surrogates, U+FFFE and U+FFFF. They are replaced by a visible
 * `\uXXXX` so nothing is lost silently.
 */
// eslint-disable-next-line no-control-regex
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function visibleCodeUnit(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Text content of an XML element. `>` is escaped too so `]]>` can never appear. */
export function escapeXmlText(value: string): string {
  return value
    .replace(XML_INVALID, visibleCodeUnit)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/**
 * An XML attribute value (to be put between double quotes). TAB, LF and CR are written as
 * character references: a parser normalises literal ones to spaces.
 */
export function escapeXmlAttr(value: string): string {
  return escapeXmlText(value)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

/** HTML text or a double-quoted attribute value. */
export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * Text inside a GitHub-flavoured Markdown table cell: inline markup characters are
 * backslash-escaped, HTML-significant ones become entities, `|` cannot end the cell and a
 * line break cannot end the row.
 */
export function escapeMarkdownCell(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    // `(`, `!` and `#` need no escape once `[` has one and a table cell cannot open a block.
    .replace(/[\\`*_[\]|~]/g, (ch) => `\\${ch}`)
    .replace(/\r\n|\r|\n/g, '<br>');
}

/** Markdown text in a paragraph or list item (not a table): the same, without the cell rules' `<br>`. */
export function escapeMarkdownText(value: string): string {
  return escapeMarkdownCell(value.replace(/\r\n|\r|\n/g, ' '));
}
