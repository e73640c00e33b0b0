import { describe, expect, it } from 'vitest';
import { ENUM_MAPPINGS, enumMapping } from '../../src/mapping/enums.js';
import * as pb from '../../src/wire.js';

describe('contract enums and proto enums are one-to-one', () => {
  for (const [name, mapping] of Object.entries(ENUM_MAPPINGS)) {
    it(`${name}: every contract value has its own proto number and comes back`, () => {
      const numbers = mapping.values.map((v) => mapping.toProto(v as never));
      expect(new Set(numbers).size).toBe(mapping.values.length);
      expect(numbers).not.toContain(0);
      for (const v of mapping.values) expect(mapping.fromProto(mapping.toProto(v as never))).toBe(v);
    });
  }

  it('0 (unset) maps to undefined and an unknown number to itself, for validation to refuse at the field', () => {
    expect(ENUM_MAPPINGS.PowerState.fromProto(0)).toBeUndefined();
    expect(ENUM_MAPPINGS.PowerState.fromProto(42)).toBe(42);
  });

  it('keeps the numbers the contract fixes: error codes, and Nova power states', () => {
    expect(ENUM_MAPPINGS.ErrorCode.toProto('INSTANCE_NOT_FOUND')).toBe(1);
    expect(ENUM_MAPPINGS.ErrorCode.toProto('INTERFACE_NOT_ATTACHED')).toBe(17);
    expect(ENUM_MAPPINGS.PowerState.toProto('RUNNING')).toBe(1);
    expect(ENUM_MAPPINGS.PowerState.toProto('SUSPENDED')).toBe(7);
  });

  it('refuses at load a contract value the proto lacks, and a proto value the contract lacks', () => {
    expect(() => enumMapping(['RUNNING', 'NOT_A_STATE'], pb.PowerStateSchema)).toThrow(/no value NOT_A_STATE/);
    expect(() => enumMapping(['RUNNING'], pb.PowerStateSchema)).toThrow(/values the contract lacks/);
  });
});
