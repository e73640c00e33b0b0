import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { test as fcTest } from '@fast-check/vitest';
import fc from 'fast-check';
import { XMLValidator } from 'fast-xml-parser';
import { childNamed, childrenNamed, decodeEntities, parseXml, XmlSyntaxError, type XmlElement } from '../src/mapping/xml-tree.js';

/** Characters XML 1.0 can carry (no CR: XML reads it as a line feed). */
const xmlChar = fc.oneof(
  fc.constantFrom('<', '>', '&', '"', "'", ']]>', '\n', '\t', ' ', 'é', '😀', '\u00a0', 'a', 'Z', '0', '-', ':', ';', '#'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }).filter((c) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\r\ufffe\uffff]/.test(c)),
);
const text = fc.array(xmlChar, { maxLength: 12 }).map((a) => a.join(''));
const names = fc.constantFrom('domain', 'name', 'nova:instance', 'disk', 'x-y', 'a.b', '_z', 'devices');

const element: fc.Memo<XmlElement> = fc.memo((depth) =>
  fc.record({
    name: names,
    attrs: fc.dictionary(fc.constantFrom('id', 'type', 'xmlns:nova', 'dev', 'a-b', 'c.d'), text, { maxKeys: 3 }),
    children: depth > 1 ? fc.array(element(depth - 1), { maxLength: 3 }) : fc.constant([]),
    text,
  }),
);

/** How a serialiser may write one character of text or of an attribute value. */
function writeChar(c: string, inAttr: boolean, style: number): string {
  const code = c.codePointAt(0)!;
  if (c === '<') return ['&lt;', '&#60;', '&#x3c;'][style % 3]!;
  if (c === '&') return ['&amp;', '&#38;', '&#x26;'][style % 3]!;
  if (c === '>') return ['&gt;', '&#62;', '&#x3e;'][style % 3]!;
  if (inAttr && c === '"') return ['&quot;', '&#34;'][style % 2]!;
  if (inAttr && c === "'") return ['&apos;', '&#39;'][style % 2]!;
  if (inAttr && (c === '\n' || c === '\t')) return `&#${code};`;
  if (code > 0x7f && style % 2 === 1) return `&#x${code.toString(16).toUpperCase()};`;
  return c;
}

function writeText(t: string, style: number): string {
  // Sometimes as CDATA (split so that ]]> never appears inside one section).
  if (style % 4 === 3 && t.length > 0) return t.split(']]>').map((p) => `<![CDATA[${p}]]>`).join('<![CDATA[]]]]><![CDATA[>]]>');
  return [...t].map((c) => writeChar(c, false, style)).join('');
}

function serialise(el: XmlElement, style: number): string {
  const attrs = Object.entries(el.attrs)
    .map(([k, v]) => ` ${k}${style % 2 ? ' = ' : '='}"${[...v].map((c) => writeChar(c, true, style)).join('')}"`)
    .join('');
  if (el.children.length === 0 && el.text === '' && style % 3 === 0) return `<${el.name}${attrs}/>`;
  // Text first, then children, with a comment in between on some styles: the element's text is what reads back.
  const inner = writeText(el.text, style) + (style % 5 === 1 ? '<!-- a comment -->' : '') + el.children.map((c) => serialise(c, style + 1)).join('');
  return `<${el.name}${attrs}>${inner}</${el.name}${style % 2 ? ' ' : ''}>`;
}

function comparable(el: XmlElement): unknown {
  return { name: el.name, attrs: { ...el.attrs }, text: el.text, children: el.children.map(comparable) };
}

describe('XML reader', () => {
  fcTest.prop([element(3), fc.nat(60)], { numRuns: 300 })('reads back any tree, however it was escaped', (tree, style) => {
    const xml = `${style % 2 ? '<?xml version="1.0"?>\n' : ''}${serialise(tree, style)}\n`;
    // The document is well-formed by an independent parser's judgement.
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(comparable(parseXml(xml))).toEqual(comparable(tree));
  });

  it('reads the domain XML goldens: the elements the driver looks at', () => {
    const dom = parseXml(readFileSync(new URL('./fixtures/qemu-full.xml', import.meta.url), 'utf8'));
    expect(dom.name).toBe('domain');
    expect(childNamed(dom, 'uuid')?.text).toBe('6f1c2a7e-1b2c-4d3e-8f40-5a6b7c8d9e0f');
    expect(childNamed(childNamed(dom, 'metadata'), 'instance')?.attrs['xmlns:nova']).toBe('urn:nova-common:libvirt:instance:1');
    expect(childrenNamed(childNamed(dom, 'devices'), 'disk').length).toBeGreaterThan(1);
  });

  it('decodes what libxml2 writes: named entities, decimal and hex character references', () => {
    expect(decodeEntities('a&lt;b&gt;c&amp;d&quot;e&apos;f&#233;&#xE9;&#x1F600;')).toBe('a<b>c&d"e\'féé😀');
    expect(parseXml('<a t="x&#10;y&#9;z">l1\r\nl2\rl3</a>')).toMatchObject({ attrs: { t: 'x\ny\tz' }, text: 'l1\nl2\nl3' });
    expect(parseXml('<a t="x\ny\tz"/>').attrs['t']).toBe('x y z');
  });

  it('keeps attribute names that are Object.prototype names as plain data', () => {
    const el = parseXml('<a __proto__="p" constructor="c"/>');
    expect(Object.keys(el.attrs)).toEqual(['__proto__', 'constructor']);
    expect(el.attrs['__proto__']).toBe('p');
    expect(parseXml('<a/>').attrs['constructor']).toBeUndefined();
  });

  it.each([
    ['<a><b></a></b>', 'crossed tags'],
    ['<a>', 'an unclosed element'],
    ['<a></a><b/>', 'two roots'],
    ['text<a/>', 'text outside the root'],
    ['<a>&nbsp;</a>', 'an entity XML does not define'],
    ['<a>AT&T</a>', 'a bare ampersand'],
    ['<a x="1" x="2"/>', 'a repeated attribute'],
    ['<a x=1/>', 'an unquoted attribute'],
    ['<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', 'an internal DTD subset'],
    ['<a><!-- never closed </a>', 'an unterminated comment'],
    ['', 'nothing'],
  ])('refuses %s (%s)', (xml) => {
    expect(() => parseXml(xml)).toThrow(XmlSyntaxError);
  });
});
