import { describe, expect } from 'vitest';
import { test as fcTest } from '@fast-check/vitest';
import fc from 'fast-check';
import { XMLValidator } from 'fast-xml-parser';
import { buildDomainXml, type DomainEnvironment } from '../src/mapping/domain-xml.js';
import { buildInstanceMetadata } from '../src/mapping/metadata-xml.js';
import { parseDomainXml, parseInstanceMetadata } from '../src/mapping/xml-read.js';
import { escapeAttr, escapeText, fromUtf16Hex, isPlainXmlText, toUtf16Hex } from '../src/mapping/xml-escape.js';
import type { InstanceRecord } from '../src/mapping/instance-record.js';

/** Strings biased towards what breaks XML: markup characters, CDATA ends, controls, surrogates, unicode. */
const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('<', '>', '&', '"', "'", ']]>', '\r', '\n', '\t', '\u0001', '\u001f', '\ud800', '\udc00', '\ufffe', 'é', '😀', ' ', 'a', '&amp;', '&#65;'), maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
).filter((s) => !s.includes('\u0000'));

const nonEmpty = nasty.filter((s) => s.length > 0);

const env: DomainEnvironment = { domainType: 'qemu', domainName: 'nova-6f1c2a7e-1b2c-4d3e-8f40-5a6b7c8d9e0f-0a1b2c3d', instanceDir: '/srv/i/u', consoleLog: true };

function record(name: string, metadata: Record<string, string>, extraSpecs: Record<string, string>, flavorName: string, imageId: string): InstanceRecord {
  return {
    uuid: '6f1c2a7e-1b2c-4d3e-8f40-5a6b7c8d9e0f',
    ownerPrefix: 'nova-',
    session: 's',
    since: '2026-01-02T03:04:05.000Z',
    mode: 'normal',
    name,
    flavor: { id: flavorName, name: flavorName, vcpus: 1, memoryMb: 64, rootGb: 1, ephemeralGb: 0, swapMb: 0, extraSpecs },
    image: { id: imageId, diskFormat: 'raw', containerFormat: 'bare', diskBus: 'virtio', vifModel: 'virtio' },
    metadata,
    localDisks: [],
    volumes: [{ id: 'aaaaaaaa-0000-4000-8000-000000000001', target: 'vdb', bus: 'virtio', source: 'file', path: `/srv/${imageId.replace(/[\u0000-\u001f]/g, '')}`, deleteOnTermination: false }],
    interfaces: [],
  };
}

const dict = fc.dictionary(nonEmpty, nasty, { maxKeys: 6 }).map((d) => Object.fromEntries(Object.entries(d)));
const identifier = nonEmpty.filter((s) => !/[\u0000-\u001f\u007f]/.test(s));

describe('XML builder properties', () => {
  fcTest.prop([nonEmpty, dict, dict, identifier, identifier])(
    'arbitrary names, metadata, extra specs, ids and paths build well-formed XML that parses back to the same values',
    (name, metadata, extraSpecs, flavorName, imageId) => {
      const r = record(name, metadata, extraSpecs, flavorName, imageId);
      const xml = buildDomainXml(r, env);
      expect(XMLValidator.validate(xml)).toBe(true);
      expect(xml).not.toMatch(/[\u0001-\u0008\u000b\u000c\u000e-\u001f]/);
      const parsed = parseDomainXml(xml);
      expect(parsed.record).toEqual(r);
      expect(parsed.disks.find((d) => d.target === 'vdb')?.source).toBe(r.volumes[0]!.path);
      // The form DOMAIN_SET_METADATA takes reads back the same way.
      expect(parseInstanceMetadata(buildInstanceMetadata(r, '', true), r.uuid)).toEqual(r);
    },
  );

  fcTest.prop([nasty])('escaped text and attributes never contain raw markup', (s) => {
    expect(escapeText(s)).not.toMatch(/[<>]|&(?!amp;|lt;|gt;)/);
    expect(escapeAttr(s)).not.toMatch(/[<>"'\r\n\t]|&(?!amp;|lt;|gt;|quot;|apos;|#9;|#10;|#13;)/);
  });

  fcTest.prop([nasty])('u16 hex encoding round-trips every string; plain text is chosen only when XML can carry it', (s) => {
    expect(fromUtf16Hex(toUtf16Hex(s))).toBe(s);
    if (isPlainXmlText(s)) expect(s).not.toMatch(/[\r\u0001-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/);
  });
});
