/**
 * A small XML reader for what libvirtd sends: domain XML and metadata elements (libvirt's
 * formatter and libxml2's serialiser). It builds a tree of elements with their attributes
 * and text, decodes the predefined entities and character references, keeps CDATA as text,
 * and skips comments, processing instructions and a DOCTYPE without internal subset. It
 * checks that tags nest and close, and throws XmlSyntaxError otherwise. No DTDs, no
 * entity declarations: libvirt never writes them. Written here because a general parser
 * spends ten times longer on a domain XML than the libvirt call that returned it.
 */

export interface XmlElement {
  /** The qualified name as written (`nova:instance`). */
  name: string;
  /** Attributes by qualified name, values decoded (an object without prototype). */
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (its text nodes and CDATA joined), decoded. */
  text: string;
}

export class XmlSyntaxError extends Error {
  override readonly name = 'XmlSyntaxError';
}

const AMPERSAND = /&(?:#x([0-9a-fA-F]{1,6});|#([0-9]{1,7});|(lt|gt|amp|quot|apos);)?/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** The predefined entities and character references (libxml2 writes non-ASCII as &#xE9; without an encoding). */
export function decodeEntities(value: string): string {
  if (!value.includes('&')) return value;
  return value.replace(AMPERSAND, (_m, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    if (name !== undefined) return NAMED[name]!;
    if (hex === undefined && dec === undefined) throw new XmlSyntaxError('an & that starts no known entity');
    const code = Number.parseInt(hex ?? dec!, hex !== undefined ? 16 : 10);
    if (code > 0x10ffff) throw new XmlSyntaxError(`character reference out of range: ${code}`);
    return String.fromCodePoint(code);
  });
}

const NAME = /[A-Za-z_][\w.:-]*/y;
const ATTRIBUTE = /\s+([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/y;
const TAG_END = /\s*(\/?)>/y;

const BANG = 0x21;
const QUESTION = 0x3f;
const SLASH = 0x2f;

/** Parse a document (or one standalone element) and return its root element. */
export function parseXml(input: string): XmlElement {
  // XML reads every line break as a line feed, and a literal tab or line break in an
  // attribute value as a space (a serialiser writes &#9; &#10; &#13; to keep them).
  const xml = input.includes('\r') ? input.replace(/\r\n?/g, '\n') : input;
  const stack: XmlElement[] = [];
  let top: XmlElement | undefined;
  let root: XmlElement | undefined;
  let i = 0;
  const n = xml.length;
  const addText = (raw: string, decode: boolean): void => {
    if (top) top.text += decode ? decodeEntities(raw) : raw;
    else if (raw.trim() !== '') throw new XmlSyntaxError('text outside the root element');
  };
  while (i < n) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) {
      addText(xml.slice(i), true);
      break;
    }
    if (lt > i) addText(xml.slice(i, lt), true);
    const next = xml.charCodeAt(lt + 1);
    if (next === BANG) {
      i = skipSpecial(xml, lt, addText);
    } else if (next === QUESTION) {
      const end = xml.indexOf('?>', lt + 2);
      if (end < 0) throw new XmlSyntaxError('unterminated processing instruction');
      i = end + 2;
    } else if (next === SLASH) {
      NAME.lastIndex = lt + 2;
      const m = NAME.exec(xml);
      if (!m || !top || m[0] !== top.name) throw new XmlSyntaxError(`unexpected end tag at ${lt}`);
      stack.pop();
      top = stack[stack.length - 1];
      const close = xml.indexOf('>', NAME.lastIndex);
      if (close < 0 || (close > NAME.lastIndex && xml.slice(NAME.lastIndex, close).trim() !== '')) throw new XmlSyntaxError(`malformed end tag at ${lt}`);
      i = close + 1;
    } else {
      NAME.lastIndex = lt + 1;
      const m = NAME.exec(xml);
      if (!m) throw new XmlSyntaxError(`malformed tag at ${lt}`);
      // No prototype: attribute names such as __proto__ are plain keys.
      const attrs = Object.create(null) as Record<string, string>;
      const el: XmlElement = { name: m[0], attrs, children: [], text: '' };
      let j = NAME.lastIndex;
      for (;;) {
        ATTRIBUTE.lastIndex = j;
        const a = ATTRIBUTE.exec(xml);
        if (!a) break;
        const attrName = a[1]!;
        if (attrName in attrs) throw new XmlSyntaxError(`attribute ${attrName} repeated`);
        const raw = a[2] ?? a[3]!;
        attrs[attrName] = decodeEntities(raw.includes('\t') || raw.includes('\n') ? raw.replace(/[\t\n]/g, ' ') : raw);
        j = ATTRIBUTE.lastIndex;
      }
      TAG_END.lastIndex = j;
      const end = TAG_END.exec(xml);
      if (!end) throw new XmlSyntaxError(`malformed tag <${el.name}> at ${lt}`);
      if (top) top.children.push(el);
      else if (root) throw new XmlSyntaxError('more than one root element');
      else root = el;
      if (end[1] !== '/') {
        stack.push(el);
        top = el;
      }
      i = TAG_END.lastIndex;
    }
  }
  if (top) throw new XmlSyntaxError(`<${top.name}> is not closed`);
  if (!root) throw new XmlSyntaxError('no root element');
  return root;
}

/** A comment, a CDATA section (its text added) or a DOCTYPE starting at `lt`; returns where parsing goes on. */
function skipSpecial(xml: string, lt: number, addText: (raw: string, decode: boolean) => void): number {
  if (xml.startsWith('<!--', lt)) {
    const end = xml.indexOf('-->', lt + 4);
    if (end < 0) throw new XmlSyntaxError('unterminated comment');
    return end + 3;
  }
  if (xml.startsWith('<![CDATA[', lt)) {
    const end = xml.indexOf(']]>', lt + 9);
    if (end < 0) throw new XmlSyntaxError('unterminated CDATA section');
    addText(xml.slice(lt + 9, end), false);
    return end + 3;
  }
  if (xml.startsWith('<!DOCTYPE', lt)) {
    const end = xml.indexOf('>', lt);
    if (end < 0 || xml.slice(lt, end).includes('[')) throw new XmlSyntaxError('DOCTYPE with an internal subset is not read');
    return end + 1;
  }
  throw new XmlSyntaxError(`malformed markup at ${lt}`);
}

/** The local part of a qualified name (`instance` of `nova:instance`). */
export function localName(name: string): string {
  const i = name.indexOf(':');
  return i >= 0 ? name.slice(i + 1) : name;
}

/** The first child with this local name, whatever prefix the serialiser chose. */
export function childNamed(el: XmlElement | undefined, local: string): XmlElement | undefined {
  if (!el) return undefined;
  for (const c of el.children) if (c.name === local || localName(c.name) === local) return c;
  return undefined;
}

/** Every child with this local name. */
export function childrenNamed(el: XmlElement | undefined, local: string): XmlElement[] {
  if (!el) return [];
  return el.children.filter((c) => c.name === local || localName(c.name) === local);
}
