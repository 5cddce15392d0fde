/**
 * AMQP field tables as data: shared by the codec (which encodes them) and the broker (which reads
 * queue arguments and message headers). No bytes here.
 *
 * Every value keeps its wire type letter so that a table re-encoded by Warren is byte-identical to the
 * one received. The letters are RabbitMQ's (rabbit_binary_parser), which differ from the 0-9-1 spec's
 * table: 's' is a signed 16-bit int (not a short string), 'u' unsigned 16, 'I' signed 32, 'i' unsigned 32,
 * 'l' signed 64, 'x' a byte array. A table is a Map, never a plain object, so a `__proto__` key is just a key.
 */

export type FieldValue =
  | { readonly type: 't'; readonly value: boolean }
  | { readonly type: 'b' | 'B' | 's' | 'u' | 'I' | 'i'; readonly value: number }
  | { readonly type: 'l' | 'T'; readonly value: bigint }
  | { readonly type: 'f' | 'd'; readonly value: number }
  | { readonly type: 'D'; readonly value: Decimal }
  | { readonly type: 'S' | 'x'; readonly value: Buffer }
  | { readonly type: 'A'; readonly value: readonly FieldValue[] }
  | { readonly type: 'F'; readonly value: FieldTable }
  | { readonly type: 'V'; readonly value: null };

export interface Decimal {
  readonly scale: number;
  readonly value: number;
}

export type FieldTable = ReadonlyMap<string, FieldValue>;

export type FieldType = FieldValue['type'];

export const EMPTY_TABLE: FieldTable = new Map();

/** Numeric value of an integer or float field (any width), or undefined for other types. */
export function fieldNumber(v: FieldValue | undefined): number | undefined {
  if (v === undefined) return undefined;
  switch (v.type) {
    case 'b': case 'B': case 's': case 'u': case 'I': case 'i': case 'f': case 'd':
      return v.value;
    case 'l': case 'T':
      return Number(v.value);
    case 'D':
      return v.value.value / 10 ** v.value.scale;
    default:
      return undefined;
  }
}

/** String value of a long-string or byte-array field (UTF-8), or undefined for other types. */
export function fieldString(v: FieldValue | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (v.type === 'S' || v.type === 'x') return v.value.toString('utf8');
  return undefined;
}

export function fieldBoolean(v: FieldValue | undefined): boolean | undefined {
  return v !== undefined && v.type === 't' ? v.value : undefined;
}

/** Convenience constructors for broker-generated tables (server properties, x-death headers, ...). */
export const field = {
  str: (s: string): FieldValue => ({ type: 'S', value: Buffer.from(s, 'utf8') }),
  bool: (b: boolean): FieldValue => ({ type: 't', value: b }),
  int: (n: number): FieldValue => ({ type: 'I', value: n }),
  long: (n: number | bigint): FieldValue => ({ type: 'l', value: BigInt(n) }),
  timestamp: (secs: number | bigint): FieldValue => ({ type: 'T', value: BigInt(secs) }),
  table: (t: FieldTable): FieldValue => ({ type: 'F', value: t }),
  array: (a: readonly FieldValue[]): FieldValue => ({ type: 'A', value: a }),
} as const;

/** Build a table from [key, value] pairs, in order. */
export function tableOf(entries: Iterable<readonly [string, FieldValue]>): FieldTable {
  return new Map(entries);
}

/**
 * Structural equality of two field values, as RabbitMQ compares arguments on redeclare: same type and
 * same value (tables compare as sets of keys).
 */
export function fieldEquals(a: FieldValue, b: FieldValue): boolean {
  if (a.type !== b.type) return false;
  switch (a.type) {
    case 'S': case 'x':
      return a.value.equals(b.value as Buffer);
    case 'D': {
      const d = b.value as Decimal;
      return a.value.scale === d.scale && a.value.value === d.value;
    }
    case 'A': {
      const arr = b.value as readonly FieldValue[];
      return a.value.length === arr.length && a.value.every((x, i) => fieldEquals(x, arr[i]!));
    }
    case 'F':
      return tableEquals(a.value, b.value as FieldTable);
    default:
      return a.value === b.value;
  }
}

export function tableEquals(a: FieldTable, b: FieldTable): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined || !fieldEquals(v, w)) return false;
  }
  return true;
}
