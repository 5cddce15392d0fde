/**
 * The key schema: one prefix byte per record kind, then the record's identity. Names are length-prefixed
 * (one octet: every name is an AMQP shortstr, at most 255 bytes), so no name can run into the next field
 * and a (vhost, name) prefix never matches a longer name. Numbers are fixed-width big-endian, so LevelDB's
 * byte order is numeric order: message ids ascend and a queue's entries come back in seq (FIFO) order.
 * Every query is a range over one prefix.
 *
 *   '!' name                                        meta (store format)
 *   'x' vhost name                                  exchange
 *   'q' vhost name                                  queue
 *   'b' vhost source kind destination routingKey args   binding (the whole identity; the value holds only a version)
 *   'm' id:u64                                      message (stored once however many queues hold it)
 *   'e' queueId:u64 seq:u64                         queue entry (one per message per durable queue)
 */
import { fieldTableSize, writeFieldTable, readFieldTable } from '../protocol/field-table.js';
import type { FieldTable } from '../types/field-table.js';

export const KeyPrefix = {
  Meta: 0x21, // '!'
  Exchange: 0x78, // 'x'
  Queue: 0x71, // 'q'
  Binding: 0x62, // 'b'
  Message: 0x6d, // 'm'
  Entry: 0x65, // 'e'
} as const;
export type KeyPrefix = (typeof KeyPrefix)[keyof typeof KeyPrefix];

/** The record kinds, by name, for logs and counters. */
export type RecordKind = 'meta' | 'exchange' | 'queue' | 'binding' | 'message' | 'entry';

export const BindingDestinationKind = { Queue: 0, Exchange: 1 } as const;

/** A key that does not follow the schema (truncated, trailing bytes, unknown kind). */
export class KeyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyFormatError';
  }
}

const TWO_32 = 0x1_0000_0000;

/** The [gte, lt) range holding every key of one kind. */
export function prefixRange(prefix: KeyPrefix): { gte: Buffer; lt: Buffer } {
  return { gte: Buffer.of(prefix), lt: Buffer.of(prefix + 1) };
}

/** The [gte, lt) range of one queue's entries, in seq order. */
export function entryRange(queueId: number): { gte: Buffer; lt: Buffer } {
  const gte = Buffer.allocUnsafe(9);
  gte[0] = KeyPrefix.Entry;
  writeU64(gte, 1, queueId);
  const lt = Buffer.allocUnsafe(9);
  lt[0] = KeyPrefix.Entry;
  writeU64(lt, 1, queueId + 1);
  return { gte, lt };
}

export function recordKindOf(key: Buffer): RecordKind | undefined {
  switch (key[0]) {
    case KeyPrefix.Meta: return 'meta';
    case KeyPrefix.Exchange: return 'exchange';
    case KeyPrefix.Queue: return 'queue';
    case KeyPrefix.Binding: return 'binding';
    case KeyPrefix.Message: return 'message';
    case KeyPrefix.Entry: return 'entry';
    default: return undefined;
  }
}

// ------------------------------------------------------------------------------------------ meta

export function metaKey(name: string): Buffer {
  return Buffer.concat([Buffer.of(KeyPrefix.Meta), Buffer.from(name, 'latin1')]);
}

// ------------------------------------------------------------------------------------------ exchange, queue

/** Exchange or queue key: prefix, vhost, name. */
export function entityKey(prefix: typeof KeyPrefix.Exchange | typeof KeyPrefix.Queue, vhost: string, name: string): Buffer {
  const v = Buffer.byteLength(vhost, 'utf8');
  const n = Buffer.byteLength(name, 'utf8');
  checkNameLength(v, 'vhost');
  checkNameLength(n, 'name');
  const key = Buffer.allocUnsafe(3 + v + n);
  key[0] = prefix;
  let off = writeName(key, 1, vhost, v);
  off = writeName(key, off, name, n);
  return key;
}

export function decodeEntityKey(key: Buffer): { vhost: string; name: string } {
  const r = new KeyReader(key, 1);
  const vhost = r.name();
  const name = r.name();
  r.end();
  return { vhost, name };
}

// ------------------------------------------------------------------------------------------ binding

export interface BindingKeyFields {
  readonly vhost: string;
  readonly source: string;
  readonly destinationKind: 'queue' | 'exchange';
  readonly destination: string;
  readonly routingKey: string;
  readonly arguments: FieldTable;
}

/**
 * The binding's whole identity is its key (AMQP: a binding is unique by source, destination, routing key
 * and arguments), encoded here rather than taken from the model's identity string so that the stored key
 * does not depend on how the model happens to spell identities.
 */
export function bindingKey(b: BindingKeyFields): Buffer {
  const v = Buffer.byteLength(b.vhost, 'utf8');
  const s = Buffer.byteLength(b.source, 'utf8');
  const d = Buffer.byteLength(b.destination, 'utf8');
  const k = Buffer.byteLength(b.routingKey, 'utf8');
  checkNameLength(v, 'vhost');
  checkNameLength(s, 'source');
  checkNameLength(d, 'destination');
  checkNameLength(k, 'routing key');
  const key = Buffer.allocUnsafe(1 + 1 + v + 1 + s + 1 + 1 + d + 1 + k + fieldTableSize(b.arguments));
  key[0] = KeyPrefix.Binding;
  let off = writeName(key, 1, b.vhost, v);
  off = writeName(key, off, b.source, s);
  key[off++] = b.destinationKind === 'queue' ? BindingDestinationKind.Queue : BindingDestinationKind.Exchange;
  off = writeName(key, off, b.destination, d);
  off = writeName(key, off, b.routingKey, k);
  off = writeFieldTable(key, off, b.arguments);
  if (off !== key.length) throw new Error(`binding key: wrote ${off} of ${key.length} bytes`);
  return key;
}

export function decodeBindingKey(key: Buffer): BindingKeyFields {
  const r = new KeyReader(key, 1);
  const vhost = r.name();
  const source = r.name();
  const kind = r.byte();
  if (kind !== BindingDestinationKind.Queue && kind !== BindingDestinationKind.Exchange) {
    throw new KeyFormatError(`unknown binding destination kind ${kind}`);
  }
  const destination = r.name();
  const routingKey = r.name();
  const args = r.table();
  r.end();
  return {
    vhost, source, destinationKind: kind === BindingDestinationKind.Queue ? 'queue' : 'exchange', destination, routingKey, arguments: args,
  };
}

// ------------------------------------------------------------------------------------------ message, entry

export function messageKey(id: number): Buffer {
  const key = Buffer.allocUnsafe(9);
  key[0] = KeyPrefix.Message;
  writeU64(key, 1, id);
  return key;
}

export function decodeMessageKey(key: Buffer): number {
  if (key.length !== 9 || key[0] !== KeyPrefix.Message) throw new KeyFormatError(`message key of ${key.length} bytes (expected 9)`);
  return readU64(key, 1);
}

export function entryKey(queueId: number, seq: number): Buffer {
  const key = Buffer.allocUnsafe(17);
  key[0] = KeyPrefix.Entry;
  writeU64(key, 1, queueId);
  writeU64(key, 9, seq);
  return key;
}

export function decodeEntryKey(key: Buffer): { queueId: number; seq: number } {
  if (key.length !== 17 || key[0] !== KeyPrefix.Entry) throw new KeyFormatError(`entry key of ${key.length} bytes (expected 17)`);
  return { queueId: readU64(key, 1), seq: readU64(key, 9) };
}

// ------------------------------------------------------------------------------------------ helpers

/** Writes a non-negative safe integer as 8 big-endian bytes (JS numbers are exact up to 2^53). */
export function writeU64(buf: Buffer, off: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`store id ${n} is not a non-negative safe integer`);
  buf.writeUInt32BE(Math.floor(n / TWO_32), off);
  buf.writeUInt32BE(n >>> 0, off + 4);
  return off + 8;
}

export function readU64(buf: Buffer, off: number): number {
  const hi = buf.readUInt32BE(off);
  if (hi > 0x1f_ffff) throw new KeyFormatError(`64-bit number at ${off} exceeds 2^53`);
  return hi * TWO_32 + buf.readUInt32BE(off + 4);
}

function checkNameLength(n: number, what: string): void {
  // Names come from shortstr fields, so this is a bug in the caller, not bad input.
  if (n > 255) throw new RangeError(`store key: ${what} of ${n} bytes exceeds 255`);
}

function writeName(buf: Buffer, off: number, s: string, n: number): number {
  buf[off] = n;
  buf.write(s, off + 1, n, 'utf8');
  return off + 1 + n;
}

/** Bounds-checked reads over one key; any overrun is a KeyFormatError. */
class KeyReader {
  constructor(private readonly key: Buffer, private off: number) {}

  byte(): number {
    if (this.off >= this.key.length) throw new KeyFormatError('key truncated');
    return this.key[this.off++]!;
  }

  name(): string {
    const n = this.byte();
    if (this.off + n > this.key.length) throw new KeyFormatError('key truncated in a name');
    const s = this.key.toString('utf8', this.off, this.off + n);
    this.off += n;
    return s;
  }

  table(): FieldTable {
    if (this.off + 4 > this.key.length) throw new KeyFormatError('key truncated in a table');
    const len = this.key.readUInt32BE(this.off);
    let t: FieldTable;
    try {
      t = readFieldTable(this.key, this.off, this.key.length);
    } catch (err) {
      throw new KeyFormatError(`bad table in key: ${(err as Error).message}`);
    }
    this.off += 4 + len;
    return t;
  }

  end(): void {
    if (this.off !== this.key.length) throw new KeyFormatError(`${this.key.length - this.off} trailing bytes in key`);
  }
}
