/**
 * Escaping for the domain XML this driver builds. The builder is hand-written (a few dozen
 * lines of templates) rather than an XML library so every value goes through exactly these
 * two functions and the output is stable byte-for-byte for golden tests.
 *
 * XML 1.0 cannot carry some characters at all (C0 controls other than tab/newline, lone
 * surrogates, U+FFFE/U+FFFF), and parsers turn a raw CR into LF. User strings (names,
 * metadata) may contain any of them, so `encodeUserText` stores such a string as hex of its
 * UTF-16 code units, marked with enc="u16"; everything else is stored as plain escaped text.
 */

/** Escape text content: & < > (> too, so "]]>" can never appear). */
export function escapeText(value: string): string {
  return value.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** Escape an attribute value for either quote style. */
export function escapeAttr(value: string): string {
  return value.replace(/[&<>"'\t\n\r]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      case '\t':
        return '&#9;';
      case '\n':
        return '&#10;';
      default:
        return '&#13;';
    }
  });
}

/**
 * True when `value` survives as XML text unchanged: only characters XML 1.0 allows, no CR,
 * and surrogates only in valid pairs.
 */
export function isPlainXmlText(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x09 || c === 0x0a) continue;
    if (c < 0x20) return false;
    if (c === 0xfffe || c === 0xffff) return false;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
      continue;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

export function toUtf16Hex(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) out += value.charCodeAt(i).toString(16).padStart(4, '0');
  return out;
}

export function fromUtf16Hex(hex: string): string {
  if (!/^(?:[0-9a-f]{4})*$/.test(hex)) throw new Error('malformed u16 hex text');
  let out = '';
  for (let i = 0; i < hex.length; i += 4) out += String.fromCharCode(Number.parseInt(hex.slice(i, i + 4), 16));
  return out;
}

/** An element carrying a user string: `<tag>escaped</tag>` or `<tag enc="u16">hex</tag>`. */
export function userTextElement(tag: string, value: string): string {
  if (isPlainXmlText(value)) return `<${tag}>${escapeText(value)}</${tag}>`;
  return `<${tag} enc="u16">${toUtf16Hex(value)}</${tag}>`;
}
