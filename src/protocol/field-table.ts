/**
 * Field-table codec (AMQP 0-9-1 §4.2.5.5, with RabbitMQ's type letters from rabbit_binary_parser /
 * rabbit_binary_generator, which differ from the spec's own table: 's' is a signed 16-bit integer, 'u'
 * unsigned 16, 'I' signed 32, 'i' unsigned 32, 'l' signed 64, 'x' a byte array).
 *
 * Tables are hostile input: every read is bounds-checked against the table's own end, the nesting depth is
 * capped, and every failure is a FRAME_ERROR (501) `AmqpError` with a readable explanation, never a
 * RangeError. Decoded tables are Maps in wire order and every value keeps its type letter, so a decoded
 * table re-encodes byte-identically (exceptions below), and a `__proto__` key is just a key.
 *
 * Known departures from byte identity (RabbitMQ's own re-encoding makes the first two as well):
 * - 'L' (accepted by RabbitMQ as a signed 64-bit 'long', errata) decodes to 'l' and re-encodes as 'l';
 * - a boolean octet other than 0/1 re-encodes as 1;
 * - keys are decoded as UTF-8, so a key with invalid UTF-8 re-encodes with U+FFFD;
 * - a float NaN may lose its payload bits;
 * - a duplicate key keeps only its first value.
 */
import { frameError } from '../errors.js';
import type { FieldTable, FieldValue } from '../types/field-table.js';

/** Deepest allowed nesting of tables and arrays; the outermost table or array is level 1. */
export const MAX_FIELD_DEPTH = 64;

// ---------------------------------------------------------------------------------------------------
// Sizes

/** Encoded size of a table: the 4-byte length prefix plus every `key, type, value`. */
export function fieldTableSize(t: FieldTable): number {
  return tableSize(t, 1);
}

/** Encoded size of an array: the 4-byte length prefix plus every `type, value`. */
export function fieldArraySize(a: readonly FieldValue[]): number {
  return arraySize(a, 1);
}

/** Encoded size of one value, including its type octet. */
export function fieldValueSize(v: FieldValue): number {
  return valueSize(v, 1);
}

function tableSize(t: FieldTable, depth: number): number {
  if (depth > MAX_FIELD_DEPTH) throw tooDeep('table');
  let n = 4;
  for (const [key, v] of t) n += 1 + keyLength(key) + valueSize(v, depth);
  return n;
}

function arraySize(a: readonly FieldValue[], depth: number): number {
  if (depth > MAX_FIELD_DEPTH) throw tooDeep('array');
  let n = 4;
  for (const v of a) n += valueSize(v, depth);
  return n;
}

function keyLength(key: string): number {
  const n = Buffer.byteLength(key, 'utf8');
  // Keys are shortstrs; RabbitMQ exits with content_properties_shortstr_overflow here. Only broker code
  // can build such a key (a decoded one is at most 255 bytes), so this is a bug, not a peer error.
  if (n > 255) throw new Error(`field table: key of ${n} bytes exceeds the 255-byte shortstr limit`);
  return n;
}

function valueSize(v: FieldValue, depth: number): number {
  switch (v.type) {
    case 'V':
      return 1;
    case 't': case 'b': case 'B':
      return 2;
    case 's': case 'u':
      return 3;
    case 'I': case 'i': case 'f':
      return 5;
    case 'l': case 'T': case 'd':
      return 9;
    case 'D':
      return 6;
    case 'S': case 'x':
      return 5 + v.value.length;
    case 'A':
      return 1 + arraySize(v.value, depth + 1);
    case 'F':
      return 1 + tableSize(v.value, depth + 1);
    default:
      return unknownValue(v);
  }
}

function unknownValue(v: never): never {
  throw new Error(`field table: cannot encode value of type '${(v as { type: string }).type}'`);
}

// ---------------------------------------------------------------------------------------------------
// Encoding

/** Writes `t` (length prefix included) at `off`; returns the offset after it. `buf` must have room. */
export function writeFieldTable(buf: Buffer, off: number, t: FieldTable): number {
  return writeTable(buf, off, t);
}

/** Writes `a` (length prefix included) at `off`; returns the offset after it. */
export function writeFieldArray(buf: Buffer, off: number, a: readonly FieldValue[]): number {
  return writeArray(buf, off, a);
}

/** Writes one value (type octet first) at `off`; returns the offset after it. */
export function writeFieldValue(buf: Buffer, off: number, v: FieldValue): number {
  return writeValue(buf, off, v);
}

function writeTable(buf: Buffer, off: number, t: FieldTable): number {
  const start = off;
  off += 4;
  for (const [key, v] of t) {
    const n = buf.write(key, off + 1, 'utf8');
    if (n > 255) throw new Error(`field table: key of ${n} bytes exceeds the 255-byte shortstr limit`);
    buf[off] = n;
    off = writeValue(buf, off + 1 + n, v);
  }
  // Patch the length once the entries are written: no second sizing pass over nested tables.
  buf.writeUInt32BE(off - start - 4, start);
  return off;
}

function writeArray(buf: Buffer, off: number, a: readonly FieldValue[]): number {
  const start = off;
  off += 4;
  for (const v of a) off = writeValue(buf, off, v);
  buf.writeUInt32BE(off - start - 4, start);
  return off;
}

function writeValue(buf: Buffer, off: number, v: FieldValue): number {
  buf[off] = v.type.charCodeAt(0);
  off += 1;
  switch (v.type) {
    case 't': buf[off] = v.value ? 1 : 0; return off + 1;
    case 'b': return buf.writeInt8(v.value, off);
    case 'B': return buf.writeUInt8(v.value, off);
    case 's': return buf.writeInt16BE(v.value, off);
    case 'u': return buf.writeUInt16BE(v.value, off);
    case 'I': return buf.writeInt32BE(v.value, off);
    case 'i': return buf.writeUInt32BE(v.value, off);
    case 'l': return buf.writeBigInt64BE(v.value, off);
    case 'T': return buf.writeBigUInt64BE(v.value, off);
    case 'f': return buf.writeFloatBE(v.value, off);
    case 'd': return buf.writeDoubleBE(v.value, off);
    case 'D':
      // RabbitMQ: scale octet, then an unsigned 32-bit value (rabbit_binary_parser `After:32/unsigned`).
      buf.writeUInt8(v.value.scale, off);
      return buf.writeUInt32BE(v.value.value, off + 1);
    case 'S': case 'x':
      off = buf.writeUInt32BE(v.value.length, off);
      return off + v.value.copy(buf, off);
    case 'A': return writeArray(buf, off, v.value);
    case 'F': return writeTable(buf, off, v.value);
    case 'V': return off;
    default: return unknownValue(v);
  }
}

// ---------------------------------------------------------------------------------------------------
// Decoding

/**
 * Reads the table whose 4-byte length is at `off`; the table must end at or before `end`. The caller
 * advances by `4 + length` (`buf.readUInt32BE(off)`). Long strings and byte arrays are copied, so the
 * result never pins `buf` (which may be a borrowed socket chunk).
 */
export function readFieldTable(buf: Buffer, off: number, end: number): FieldTable {
  const stop = containerEnd(buf, off, end, 'field table');
  return readTable(new Cursor(buf, off + 4), stop, 1);
}

/** Reads the array whose 4-byte length is at `off`, bounded by `end`, like readFieldTable. */
export function readFieldArray(buf: Buffer, off: number, end: number): FieldValue[] {
  const stop = containerEnd(buf, off, end, 'field array');
  return readArray(new Cursor(buf, off + 4), stop, 1);
}

/** Read position shared by one top-level decode (one allocation per table, no module state). */
class Cursor {
  constructor(
    readonly buf: Buffer,
    public pos: number,
  ) {}
}

/** Validates the length prefix at `off` against `end`; returns where the container's content ends. */
function containerEnd(buf: Buffer, off: number, end: number, what: string): number {
  if (end > buf.length) end = buf.length;
  if (off < 0 || off + 4 > end) {
    throw frameError(`${what}: truncated length (${Math.max(0, end - off)} of 4 bytes)`);
  }
  const len = buf.readUInt32BE(off);
  if (len > end - off - 4) {
    throw frameError(`${what}: length ${len} runs past the end of its container (${end - off - 4} bytes left)`);
  }
  return off + 4 + len;
}

function readTable(c: Cursor, end: number, depth: number): Map<string, FieldValue> {
  if (depth > MAX_FIELD_DEPTH) throw tooDeep('table');
  const buf = c.buf;
  const table = new Map<string, FieldValue>();
  while (c.pos < end) {
    const klen = buf[c.pos]!;
    const kstart = c.pos + 1;
    if (klen > end - kstart) throw frameError(`field table: key length ${klen} runs past the end of the table`);
    const key = buf.toString('utf8', kstart, kstart + klen);
    c.pos = kstart + klen;
    if (c.pos >= end) throw frameError(`field table: missing value for key ${quote(key)}`);
    const value = readValue(c, end, depth, key);
    // A duplicate key keeps its first value, as RabbitMQ's lookups (lists:keysearch) find the first;
    // the later duplicates are dropped, the one case where re-encoding is not byte-identical.
    if (!table.has(key)) table.set(key, value);
  }
  return table;
}

function readArray(c: Cursor, end: number, depth: number): FieldValue[] {
  if (depth > MAX_FIELD_DEPTH) throw tooDeep('array');
  const arr: FieldValue[] = [];
  while (c.pos < end) arr.push(readValue(c, end, depth, arr.length));
  return arr;
}

/** Width of the fixed-size types by type octet; -1 for variable-size or unknown types. */
function fixedWidth(code: number): number {
  switch (code) {
    case 0x56: return 0; // V
    case 0x74: case 0x62: case 0x42: return 1; // t b B
    case 0x73: case 0x75: return 2; // s u
    case 0x49: case 0x69: case 0x66: return 4; // I i f
    case 0x44: return 5; // D
    case 0x6c: case 0x4c: case 0x54: case 0x64: return 8; // l L T d
    default: return -1;
  }
}

/** Decodes the value whose type octet is at c.pos (< end) and moves c.pos past it. */
function readValue(c: Cursor, end: number, depth: number, where: string | number): FieldValue {
  const buf = c.buf;
  const code = buf[c.pos]!;
  const p = c.pos + 1;
  const width = fixedWidth(code);
  if (width >= 0) {
    if (width > end - p) throw frameError(`${what(where)}: truncated value of type ${typeName(code)} ${at(where)}`);
    c.pos = p + width;
  }
  switch (code) {
    case 0x74: return { type: 't', value: buf[p] !== 0 }; // RabbitMQ: any non-zero octet is true
    case 0x62: return { type: 'b', value: buf.readInt8(p) };
    case 0x42: return { type: 'B', value: buf[p]! };
    case 0x73: return { type: 's', value: buf.readInt16BE(p) };
    case 0x75: return { type: 'u', value: buf.readUInt16BE(p) };
    case 0x49: return { type: 'I', value: buf.readInt32BE(p) };
    case 0x69: return { type: 'i', value: buf.readUInt32BE(p) };
    case 0x6c: case 0x4c: return { type: 'l', value: buf.readBigInt64BE(p) }; // 'L' too: RabbitMQ errata
    case 0x54: return { type: 'T', value: buf.readBigUInt64BE(p) };
    case 0x66: return { type: 'f', value: buf.readFloatBE(p) };
    case 0x64: return { type: 'd', value: buf.readDoubleBE(p) };
    // RabbitMQ: scale octet, then an unsigned 32-bit value (rabbit_binary_parser `After:32/unsigned`).
    case 0x44: return { type: 'D', value: { scale: buf[p]!, value: buf.readUInt32BE(p + 1) } };
    case 0x56: return { type: 'V', value: null };
    case 0x53: case 0x78: case 0x46: case 0x41: {
      if (4 > end - p) throw frameError(`${what(where)}: truncated length of type ${typeName(code)} ${at(where)}`);
      const len = buf.readUInt32BE(p);
      const start = p + 4;
      if (len > end - start) {
        throw frameError(
          `${what(where)}: length ${len} of type ${typeName(code)} ${at(where)} runs past the end ` +
            `(${end - start} bytes left)`,
        );
      }
      c.pos = start;
      if (code === 0x46) {
        const t = readTable(c, start + len, depth + 1);
        return { type: 'F', value: t };
      }
      if (code === 0x41) {
        const a = readArray(c, start + len, depth + 1);
        return { type: 'A', value: a };
      }
      c.pos = start + len;
      // Copy: a decoded table may outlive the frame payload it came from.
      const bytes = Buffer.allocUnsafe(len);
      buf.copy(bytes, 0, start, start + len);
      return code === 0x53 ? { type: 'S', value: bytes } : { type: 'x', value: bytes };
    }
    default:
      throw frameError(`${what(where)}: unknown field type ${typeName(code)} ${at(where)}`);
  }
}

function what(where: string | number): string {
  return typeof where === 'number' ? 'field array' : 'field table';
}

function at(where: string | number): string {
  return typeof where === 'number' ? `at index ${where}` : `for key ${quote(where)}`;
}

function typeName(code: number): string {
  return code >= 0x21 && code <= 0x7e ? `'${String.fromCharCode(code)}'` : `0x${code.toString(16).padStart(2, '0')}`;
}

function quote(key: string): string {
  return `'${key.length > 64 ? `${key.slice(0, 64)}...` : key}'`;
}

function tooDeep(kind: string) {
  return frameError(`field ${kind}: nesting deeper than ${MAX_FIELD_DEPTH} levels`);
}

// ---------------------------------------------------------------------------------------------------
// Plain-object conversion (tests, server properties, configuration)

/** A plain JavaScript value that fromPlain can map onto a field type. */
export type PlainValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Buffer
  | Date
  | readonly PlainValue[]
  | { readonly [key: string]: PlainValue | undefined };

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/**
 * Converts a plain object to a table, keys in insertion order: strings → 'S', integers → 'I' (or 'l'
 * outside int32), other numbers → 'd', bigints → 'l', booleans → 't', Buffers → 'x', Dates → 'T'
 * (seconds), arrays → 'A', objects → 'F', null → 'V'. Undefined members are skipped.
 */
export function fromPlain(obj: { readonly [key: string]: PlainValue | undefined }): FieldTable {
  const t = new Map<string, FieldValue>();
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (v !== undefined) t.set(key, plainToField(v));
  }
  return t;
}

function plainToField(v: PlainValue): FieldValue {
  if (v === null) return { type: 'V', value: null };
  switch (typeof v) {
    case 'string': return { type: 'S', value: Buffer.from(v, 'utf8') };
    case 'boolean': return { type: 't', value: v };
    case 'bigint': return { type: 'l', value: v };
    case 'number':
      if (Number.isInteger(v)) {
        return v >= INT32_MIN && v <= INT32_MAX ? { type: 'I', value: v } : { type: 'l', value: BigInt(v) };
      }
      return { type: 'd', value: v };
    default:
      break;
  }
  if (Buffer.isBuffer(v)) return { type: 'x', value: v };
  if (v instanceof Date) return { type: 'T', value: BigInt(Math.floor(v.getTime() / 1000)) };
  if (Array.isArray(v)) return { type: 'A', value: (v as readonly PlainValue[]).map(plainToField) };
  return { type: 'F', value: fromPlain(v as { readonly [key: string]: PlainValue | undefined }) };
}

/** A table as a plain object: 'S' → string, 'x' → Buffer, 'l'/'T' → bigint, 'D' → Decimal, ... */
export type PlainTable = { [key: string]: unknown };

/**
 * Converts a table to a plain object (for tests and logs; broker code reads the Map). Keys are defined
 * as own properties, so `__proto__` stays an ordinary key.
 */
export function toPlain(t: FieldTable): PlainTable {
  const out: PlainTable = {};
  for (const [k, v] of t) {
    Object.defineProperty(out, k, { value: fieldToPlain(v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function fieldToPlain(v: FieldValue): unknown {
  switch (v.type) {
    case 'S': return v.value.toString('utf8');
    case 'A': return v.value.map(fieldToPlain);
    case 'F': return toPlain(v.value);
    default: return v.value;
  }
}
