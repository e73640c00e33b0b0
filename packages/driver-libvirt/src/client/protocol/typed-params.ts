import type { XdrDecoder } from '../xdr/decoder.js';
import type { XdrEncoder } from '../xdr/encoder.js';

/**
 * remote_typed_param: libvirt's typed parameter lists (migration parameters, job statistics).
 * The union's discriminant is virTypedParameterType. A field may repeat (migrate_disks lists
 * one disk per entry), so a list is an array, not a record.
 */
export const TypedParamType = { INT: 1, UINT: 2, LLONG: 3, ULLONG: 4, DOUBLE: 5, BOOLEAN: 6, STRING: 7 } as const;

export type TypedParamValue =
  | { type: 1 | 2; value: number }
  | { type: 3 | 4; value: bigint }
  | { type: 5; value: number }
  | { type: 6; value: boolean }
  | { type: 7; value: string };

export interface TypedParam {
  field: string;
  value: TypedParamValue;
}

/** REMOTE_DOMAIN_MIGRATE_PARAM_LIST_MAX and REMOTE_DOMAIN_JOB_STATS_MAX (remote_protocol.x). */
export const TYPED_PARAM_LIST_MAX = 64;

export function stringParam(field: string, value: string): TypedParam {
  return { field, value: { type: TypedParamType.STRING, value } };
}

export function uintParam(field: string, value: number): TypedParam {
  return { field, value: { type: TypedParamType.UINT, value } };
}

export function ullongParam(field: string, value: bigint): TypedParam {
  return { field, value: { type: TypedParamType.ULLONG, value } };
}

function writeValue(e: XdrEncoder, v: TypedParamValue): void {
  e.int(v.type);
  switch (v.type) {
    case 1:
      e.int(v.value);
      break;
    case 2:
      e.uint(v.value);
      break;
    case 3:
      e.hyper(v.value);
      break;
    case 4:
      e.uhyper(v.value);
      break;
    case 5: {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(v.value);
      e.fixedOpaque(b, 8);
      break;
    }
    case 6:
      e.bool(v.value);
      break;
    case 7:
      e.string(v.value);
      break;
  }
}

export function writeTypedParams(e: XdrEncoder, params: readonly TypedParam[]): void {
  e.array(params, (x, p) => {
    x.string(p.field);
    writeValue(x, p.value);
  }, TYPED_PARAM_LIST_MAX);
}

function readValue(d: XdrDecoder): TypedParamValue {
  const type = d.int();
  switch (type) {
    case 1:
      return { type, value: d.int() };
    case 2:
      return { type, value: d.uint() };
    case 3:
      return { type, value: d.hyper() };
    case 4:
      return { type, value: d.uhyper() };
    case 5:
      return { type, value: d.fixedOpaque(8).readDoubleBE(0) };
    case 6:
      return { type, value: d.int() !== 0 };
    case 7:
      return { type, value: d.string() };
    default:
      throw new RangeError(`unknown typed parameter type ${type}`);
  }
}

export function readTypedParams(d: XdrDecoder): TypedParam[] {
  return d.array((x) => ({ field: x.string(), value: readValue(x) }), TYPED_PARAM_LIST_MAX);
}

/** Job statistics as numbers by field (counters are 64-bit: read as Number, exact below 2^53). */
export function numericParams(params: readonly TypedParam[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of params) {
    const v = p.value.value;
    if (typeof v === 'number') out[p.field] = v;
    else if (typeof v === 'bigint') out[p.field] = Number(v);
  }
  return out;
}
