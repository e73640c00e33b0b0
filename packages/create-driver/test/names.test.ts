import { describe, expect, it } from 'vitest';
import { ScaffoldError, checkDescription, checkPackageName, parseCiSource } from '../src/index.js';

function refusal(fn: () => unknown): ScaffoldError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ScaffoldError);
    return error as ScaffoldError;
  }
  throw new Error('expected a ScaffoldError');
}

describe('package names', () => {
  it.each(['driver-x', '@acme/driver-x', 'nova-driver.example', '@a1/b_c'])('accepts %s', (name) => {
    expect(checkPackageName(name)).toBe(name);
  });

  it.each([
    ['Driver-X', /lowercase|capital/i],
    ['', /length|empty/i],
    ['.hidden', /period/],
    ['_private', /underscore/],
    ['../escape', /url-friendly|a-z/i],
    ['a b', /url-friendly|a-z/i],
    ['$(touch pwned)', /url-friendly|a-z|special/i],
    ["x'; rm -rf /", /url-friendly|a-z|special/i],
    ['fs', /core module/],
    ['@acme/', /./],
    ['x'.repeat(215), /214/],
    ['d~x', /special|a-z/i],
  ])('refuses %j with INVALID_ARGUMENT naming the field', (name, why) => {
    const e = refusal(() => checkPackageName(name, 'name'));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.field).toBe('name');
    expect(e.message).toMatch(/^INVALID_ARGUMENT: name: /);
    expect(e.reason).toMatch(why);
  });
});

describe('descriptions', () => {
  it('accepts one line of text', () => {
    expect(checkDescription('Machines through the example API.')).toBe('Machines through the example API.');
  });

  it.each(['', '   ', 'two\nlines', 'bell\u0007', 'x'.repeat(201)])('refuses %j naming the field', (text) => {
    const e = refusal(() => checkDescription(text));
    expect(e.field).toBe('description');
    expect(e.code).toBe('INVALID_ARGUMENT');
  });
});

describe('the CI source', () => {
  it('splits owner/repo@ref', () => {
    expect(parseCiSource('acme/nova-common@v1.1.0')).toEqual({ repository: 'acme/nova-common', ref: 'v1.1.0' });
    expect(parseCiSource('acme/nova-common@release/1.1')).toEqual({ repository: 'acme/nova-common', ref: 'release/1.1' });
  });

  it.each(['acme/nova-common', 'acme@main', 'acme/repo@', 'ac me/repo@main', 'acme/repo@ma in', 'acme/repo@${{ github.token }}', 'acme/repo@../x', '-acme/repo@main'])(
    'refuses %j naming the field',
    (text) => {
      const e = refusal(() => parseCiSource(text, 'ciSource'));
      expect(e.field).toBe('ciSource');
    },
  );
});
