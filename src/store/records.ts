/**
 * Binary record values. Every value starts with a version octet so a later Warren can read (or at least
 * recognise) what an earlier one wrote; anything this version cannot decode is a RecordFormatError, which
 * recovery logs with the record's key and skips. Tables use the protocol's field-table codec, so argument
 * values keep their type letters across a restart.
 *
 *   exchange  v1 type:shortstr flags:u8(autoDelete=1, internal=2) arguments:table
 *   queue     v1 id:u64 flags:u8(autoDelete=1) arguments:table
 *   binding   v1                                     (the identity is the key)
 *   message   v1 exchange:shortstr routingKey:shortstr properties:u32-prefixed body:rest
 *   entry     v2 flags:u8(delivered=1, shared=2) messageId:u64 expiresAt:u64(ms since epoch, 0 = none)
 *                bodySize:u32 priority:u8
 *   meta      v1 format:u32
 *
 * Entry v2 carries what a queue needs to hold a message paged out (its body size and priority) and
 * whether several queues share the message, so recovery builds a long queue from its entries alone and
 * reads message records only for what it keeps in memory. (v1, without them, never shipped.)
 */
import { fieldTableSize, readFieldTable, writeFieldTable } from '../protocol/field-table.js';
import type { FieldTable } from '../types/field-table.js';
import { readU64, writeU64 } from './keys.js';

export const RECORD_VERSION = 1;
/** Entry records have their own version (see the layout above). */
export const ENTRY_RECORD_VERSION = 2;

/** The layout of keys and records as a whole; a data directory with another format is refused. */
export const STORE_FORMAT = 1;

export class RecordFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordFormatError';
  }
}

export interface ExchangeValue {
  readonly type: string;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: FieldTable;
}

export interface QueueValue {
  readonly id: number;
  readonly autoDelete: boolean;
  readonly arguments: FieldTable;
}

export interface MessageValue {
  readonly exchange: string;
  readonly routingKey: string;
  readonly properties: Buffer;
  readonly body: Buffer;
}

export interface EntryValue {
  readonly messageId: number;
  readonly delivered: boolean;
  /** The message was routed to more than one queue (it is kept in memory, never paged out). */
  readonly shared: boolean;
  readonly expiresAt: number;
  /** The message's body size in bytes. */
  readonly size: number;
  /** The message's priority property, 0 when absent. */
  readonly priority: number;
}

const EXCHANGE_AUTO_DELETE = 1;
const EXCHANGE_INTERNAL = 2;
const QUEUE_AUTO_DELETE = 1;
const ENTRY_DELIVERED = 1;
const ENTRY_SHARED = 2;

export const ENTRY_VALUE_SIZE = 23;

// ------------------------------------------------------------------------------------------ encoders

export function encodeExchange(v: ExchangeValue): Buffer {
  const t = shortstrLength(v.type, 'exchange type');
  const buf = Buffer.allocUnsafe(1 + 1 + t + 1 + fieldTableSize(v.arguments));
  buf[0] = RECORD_VERSION;
  let off = writeShortstr(buf, 1, v.type, t);
  buf[off++] = (v.autoDelete ? EXCHANGE_AUTO_DELETE : 0) | (v.internal ? EXCHANGE_INTERNAL : 0);
  writeFieldTable(buf, off, v.arguments);
  return buf;
}

export function encodeQueue(v: QueueValue): Buffer {
  const buf = Buffer.allocUnsafe(1 + 8 + 1 + fieldTableSize(v.arguments));
  buf[0] = RECORD_VERSION;
  let off = writeU64(buf, 1, v.id);
  buf[off++] = v.autoDelete ? QUEUE_AUTO_DELETE : 0;
  writeFieldTable(buf, off, v.arguments);
  return buf;
}

const BINDING_VALUE = Buffer.of(RECORD_VERSION);

export function encodeBinding(): Buffer {
  return BINDING_VALUE;
}

/** One copy of the body into the record: the value LevelDB writes must be a single buffer. */
export function encodeMessage(exchange: string, routingKey: string, properties: Buffer, body: Buffer): Buffer {
  const e = shortstrLength(exchange, 'exchange');
  const r = shortstrLength(routingKey, 'routing key');
  const buf = Buffer.allocUnsafe(1 + 1 + e + 1 + r + 4 + properties.length + body.length);
  buf[0] = RECORD_VERSION;
  let off = writeShortstr(buf, 1, exchange, e);
  off = writeShortstr(buf, off, routingKey, r);
  off = buf.writeUInt32BE(properties.length, off);
  off += properties.copy(buf, off);
  body.copy(buf, off);
  return buf;
}

export function encodeEntry(
  messageId: number, delivered: boolean, expiresAt: number, size: number, priority: number, shared: boolean,
): Buffer {
  const buf = Buffer.allocUnsafe(ENTRY_VALUE_SIZE);
  buf[0] = ENTRY_RECORD_VERSION;
  buf[1] = (delivered ? ENTRY_DELIVERED : 0) | (shared ? ENTRY_SHARED : 0);
  writeU64(buf, 2, messageId);
  writeU64(buf, 10, expiresAt);
  buf.writeUInt32BE(size, 18);
  buf[22] = priority;
  return buf;
}

export function encodeFormat(format: number): Buffer {
  const buf = Buffer.allocUnsafe(5);
  buf[0] = RECORD_VERSION;
  buf.writeUInt32BE(format, 1);
  return buf;
}

// ------------------------------------------------------------------------------------------ decoders

export function decodeExchange(buf: Buffer): ExchangeValue {
  const r = new ValueReader(buf);
  const type = r.shortstr();
  const flags = r.byte();
  const args = r.table();
  r.end();
  return { type, autoDelete: (flags & EXCHANGE_AUTO_DELETE) !== 0, internal: (flags & EXCHANGE_INTERNAL) !== 0, arguments: args };
}

export function decodeQueue(buf: Buffer): QueueValue {
  const r = new ValueReader(buf);
  const id = r.u64();
  const flags = r.byte();
  const args = r.table();
  r.end();
  return { id, autoDelete: (flags & QUEUE_AUTO_DELETE) !== 0, arguments: args };
}

export function decodeBinding(buf: Buffer): void {
  new ValueReader(buf).end();
}

/** The properties and body are views into `buf` (recovery keeps the record buffer as the message's memory). */
export function decodeMessage(buf: Buffer): MessageValue {
  const r = new ValueReader(buf);
  const exchange = r.shortstr();
  const routingKey = r.shortstr();
  const properties = r.bytes(r.u32());
  const body = r.rest();
  return { exchange, routingKey, properties, body };
}

export function decodeEntry(buf: Buffer): EntryValue {
  const r = new ValueReader(buf, ENTRY_RECORD_VERSION);
  const flags = r.byte();
  const messageId = r.u64();
  const expiresAt = r.u64();
  const size = r.u32();
  const priority = r.byte();
  r.end();
  return {
    messageId, delivered: (flags & ENTRY_DELIVERED) !== 0, shared: (flags & ENTRY_SHARED) !== 0, expiresAt, size, priority,
  };
}

export function decodeFormat(buf: Buffer): number {
  const r = new ValueReader(buf);
  const format = r.u32();
  r.end();
  return format;
}

// ------------------------------------------------------------------------------------------ helpers

function shortstrLength(s: string, what: string): number {
  const n = Buffer.byteLength(s, 'utf8');
  if (n > 255) throw new RangeError(`store record: ${what} of ${n} bytes exceeds 255`);
  return n;
}

function writeShortstr(buf: Buffer, off: number, s: string, n: number): number {
  buf[off] = n;
  buf.write(s, off + 1, n, 'utf8');
  return off + 1 + n;
}

/** Bounds-checked reads over one value, after checking its version; any failure is a RecordFormatError. */
class ValueReader {
  private off = 1;

  constructor(private readonly buf: Buffer, version: number = RECORD_VERSION) {
    if (buf.length === 0) throw new RecordFormatError('empty record');
    if (buf[0] !== version) throw new RecordFormatError(`record version ${buf[0]} (this Warren reads version ${version})`);
  }

  private need(n: number, what: string): void {
    if (this.off + n > this.buf.length) {
      throw new RecordFormatError(`record truncated in ${what} (${this.buf.length - this.off} of ${n} bytes)`);
    }
  }

  byte(): number {
    this.need(1, 'a flag octet');
    return this.buf[this.off++]!;
  }

  u32(): number {
    this.need(4, 'a 32-bit number');
    const n = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return n;
  }

  u64(): number {
    this.need(8, 'a 64-bit number');
    const hi = this.buf.readUInt32BE(this.off);
    if (hi > 0x1f_ffff) throw new RecordFormatError('64-bit number exceeds 2^53');
    const n = readU64(this.buf, this.off);
    this.off += 8;
    return n;
  }

  shortstr(): string {
    const n = this.byte();
    this.need(n, 'a short string');
    const s = this.buf.toString('utf8', this.off, this.off + n);
    this.off += n;
    return s;
  }

  bytes(n: number): Buffer {
    this.need(n, 'a byte string');
    const b = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return b;
  }

  rest(): Buffer {
    const b = this.buf.subarray(this.off);
    this.off = this.buf.length;
    return b;
  }

  table(): FieldTable {
    this.need(4, 'a table length');
    const len = this.buf.readUInt32BE(this.off);
    let t: FieldTable;
    try {
      t = readFieldTable(this.buf, this.off, this.buf.length);
    } catch (err) {
      throw new RecordFormatError(`bad table: ${(err as Error).message}`);
    }
    this.off += 4 + len;
    return t;
  }

  end(): void {
    if (this.off !== this.buf.length) throw new RecordFormatError(`${this.buf.length - this.off} trailing bytes`);
  }
}
