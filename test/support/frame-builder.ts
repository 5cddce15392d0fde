/**
 * Test-only AMQP 0-9-1 frame builder, deliberately independent of Warren's codec (it imports nothing
 * from src/): frames, method payloads from hand-written field layouts, field tables, content headers and
 * protocol headers, built straight from the spec (§4.2). Raw-peer tests use it to send both legal and
 * illegal input (wrong sizes, bad end octets, unknown types, truncated tables...).
 */

export const FRAME_END = 0xce;
export const FrameKind = { Method: 1, Header: 2, Body: 3, Heartbeat: 8 } as const;

// ---------------------------------------------------------------------------------------------------
// Frames

/** The protocol header; defaults to AMQP 0-9-1 ("AMQP" 0 0 9 1). */
export function protocolHeader(id = 0, major = 0, minor = 9, revision = 1): Buffer {
  return Buffer.from([0x41, 0x4d, 0x51, 0x50, id, major, minor, revision]);
}

export interface RawFrameOptions {
  /** Size written in the header instead of payload.length (to lie about the size). */
  readonly size?: number;
  /** End octet instead of 0xCE. */
  readonly end?: number;
  /** Leave the end octet out entirely. */
  readonly noEnd?: boolean;
}

/** type(1) channel(2) size(4) payload end(1), with optional lies. */
export function rawFrame(type: number, channel: number, payload: Buffer, opts: RawFrameOptions = {}): Buffer {
  const endLen = opts.noEnd === true ? 0 : 1;
  const out = Buffer.alloc(7 + payload.length + endLen);
  out[0] = type;
  out.writeUInt16BE(channel, 1);
  out.writeUInt32BE(opts.size ?? payload.length, 3);
  payload.copy(out, 7);
  if (endLen === 1) out[7 + payload.length] = opts.end ?? FRAME_END;
  return out;
}

export function heartbeatFrame(channel = 0): Buffer {
  return rawFrame(FrameKind.Heartbeat, channel, Buffer.alloc(0));
}

export function bodyFrame(channel: number, body: Buffer | string): Buffer {
  return rawFrame(FrameKind.Body, channel, typeof body === 'string' ? Buffer.from(body) : body);
}

/** Body frames for `body` split at frameMax − 8 (no frames for an empty body), concatenated. */
export function bodyFrames(channel: number, body: Buffer, frameMax: number): Buffer {
  const max = frameMax - 8;
  const parts: Buffer[] = [];
  for (let pos = 0; pos < body.length; pos += max) parts.push(bodyFrame(channel, body.subarray(pos, pos + max)));
  return Buffer.concat(parts);
}

export interface ParsedFrame {
  readonly type: number;
  readonly channel: number;
  readonly payload: Buffer;
}

/** Splits a contiguous buffer of complete, well-formed frames (an independent decoder for asserts). */
export function splitFrames(buf: Buffer): ParsedFrame[] {
  const out: ParsedFrame[] = [];
  let off = 0;
  while (off < buf.length) {
    if (off + 7 > buf.length) throw new Error(`splitFrames: truncated frame header at ${off}`);
    const size = buf.readUInt32BE(off + 3);
    const end = off + 7 + size;
    if (end >= buf.length) throw new Error(`splitFrames: truncated frame at ${off}`);
    if (buf[end] !== FRAME_END) throw new Error(`splitFrames: bad end octet at ${end}`);
    out.push({ type: buf[off]!, channel: buf.readUInt16BE(off + 1), payload: buf.subarray(off + 7, end) });
    off = end + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Method payloads from hand-written field layouts (§4.2.5 data types, §4.2.4 method payloads)

export type Field =
  | readonly ['octet', number]
  | readonly ['short', number]
  | readonly ['long', number]
  | readonly ['longlong', number | bigint]
  | readonly ['timestamp', number | bigint]
  | readonly ['shortstr', string | Buffer]
  | readonly ['longstr', string | Buffer]
  /** Consecutive bits packed into octets, first bit in the least significant position (§4.2.5.2). */
  | readonly ['bits', readonly boolean[]]
  | readonly ['table', readonly TableEntry[]]
  /** Arbitrary bytes, to build malformed payloads. */
  | readonly ['raw', Buffer];

export function fieldBytes(f: Field): Buffer {
  switch (f[0]) {
    case 'octet': return Buffer.from([f[1]]);
    case 'short': { const b = Buffer.alloc(2); b.writeUInt16BE(f[1]); return b; }
    case 'long': { const b = Buffer.alloc(4); b.writeUInt32BE(f[1]); return b; }
    case 'longlong': case 'timestamp': { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(f[1])); return b; }
    case 'shortstr': { const s = toBuf(f[1]); return Buffer.concat([Buffer.from([s.length]), s]); }
    case 'longstr': return longstr(toBuf(f[1]));
    case 'bits': {
      const b = Buffer.alloc(Math.ceil(f[1].length / 8));
      f[1].forEach((bit, i) => { if (bit) b[i >> 3]! |= 1 << (i & 7); });
      return b;
    }
    case 'table': return tableBytes(f[1]);
    case 'raw': return f[1];
  }
}

export function methodPayload(classId: number, methodId: number, fields: readonly Field[] = []): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(classId, 0);
  head.writeUInt16BE(methodId, 2);
  return Buffer.concat([head, ...fields.map(fieldBytes)]);
}

export function methodFrame(channel: number, classId: number, methodId: number, fields: readonly Field[] = []): Buffer {
  return rawFrame(FrameKind.Method, channel, methodPayload(classId, methodId, fields));
}

// ---------------------------------------------------------------------------------------------------
// Field tables, RabbitMQ's type letters (rabbit_binary_generator)

export type TableValue =
  | readonly ['t', boolean]
  | readonly ['b' | 'B' | 's' | 'u' | 'I' | 'i', number]
  | readonly ['l' | 'L' | 'T', number | bigint]
  | readonly ['f' | 'd', number]
  | readonly ['D', number, number] // scale, unsigned value
  | readonly ['S' | 'x', string | Buffer]
  | readonly ['A', readonly TableValue[]]
  | readonly ['F', readonly TableEntry[]]
  | readonly ['V']
  /** Type octet and value bytes given verbatim (unknown letters, truncated values...). */
  | readonly ['raw', Buffer];

export type TableEntry = readonly [key: string, value: TableValue];

/** A table with its 4-byte length prefix. */
export function tableBytes(entries: readonly TableEntry[]): Buffer {
  const parts = entries.map(([k, v]) => {
    const key = Buffer.from(k, 'utf8');
    return Buffer.concat([Buffer.from([key.length]), key, valueBytes(v)]);
  });
  return longstr(Buffer.concat(parts));
}

/** An array with its 4-byte length prefix. */
export function arrayBytes(values: readonly TableValue[]): Buffer {
  return longstr(Buffer.concat(values.map(valueBytes)));
}

/** One value, type octet first. */
export function valueBytes(v: TableValue): Buffer {
  if (v[0] === 'raw') return v[1];
  const t = Buffer.from(v[0], 'latin1');
  const b = (n: number) => Buffer.alloc(n);
  switch (v[0]) {
    case 't': return Buffer.concat([t, Buffer.from([v[1] ? 1 : 0])]);
    case 'b': { const x = b(1); x.writeInt8(v[1]); return Buffer.concat([t, x]); }
    case 'B': { const x = b(1); x.writeUInt8(v[1]); return Buffer.concat([t, x]); }
    case 's': { const x = b(2); x.writeInt16BE(v[1]); return Buffer.concat([t, x]); }
    case 'u': { const x = b(2); x.writeUInt16BE(v[1]); return Buffer.concat([t, x]); }
    case 'I': { const x = b(4); x.writeInt32BE(v[1]); return Buffer.concat([t, x]); }
    case 'i': { const x = b(4); x.writeUInt32BE(v[1]); return Buffer.concat([t, x]); }
    case 'l': case 'L': { const x = b(8); x.writeBigInt64BE(BigInt(v[1])); return Buffer.concat([t, x]); }
    case 'T': { const x = b(8); x.writeBigUInt64BE(BigInt(v[1])); return Buffer.concat([t, x]); }
    case 'f': { const x = b(4); x.writeFloatBE(v[1]); return Buffer.concat([t, x]); }
    case 'd': { const x = b(8); x.writeDoubleBE(v[1]); return Buffer.concat([t, x]); }
    case 'D': { const x = b(5); x.writeUInt8(v[1]); x.writeUInt32BE(v[2], 1); return Buffer.concat([t, x]); }
    case 'S': case 'x': return Buffer.concat([t, longstr(toBuf(v[1]))]);
    case 'A': return Buffer.concat([t, arrayBytes(v[1])]);
    case 'F': return Buffer.concat([t, tableBytes(v[1])]);
    case 'V': return t;
  }
}

// ---------------------------------------------------------------------------------------------------
// Content headers (§4.2.6.1) and basic properties (class 60, property flags from bit 15 down)

export function contentHeaderPayload(classId: number, bodySize: number | bigint, properties: Buffer, weight = 0): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(classId, 0);
  head.writeUInt16BE(weight, 2);
  head.writeBigUInt64BE(BigInt(bodySize), 4);
  return Buffer.concat([head, properties]);
}

export function contentHeaderFrame(
  channel: number,
  classId: number,
  bodySize: number | bigint,
  properties: Buffer = basicProperties({}),
): Buffer {
  return rawFrame(FrameKind.Header, channel, contentHeaderPayload(classId, bodySize, properties));
}

export interface BasicProps {
  contentType?: string;
  contentEncoding?: string;
  headers?: readonly TableEntry[];
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  expiration?: string;
  messageId?: string;
  timestamp?: number | bigint;
  type?: string;
  userId?: string;
  appId?: string;
  clusterId?: string;
}

/** Property flags + values for basic (class 60), in the spec's order. */
export function basicProperties(p: BasicProps): Buffer {
  let flags = 0;
  const parts: Buffer[] = [];
  const add = (bit: number, value: unknown, bytes: () => Buffer) => {
    if (value === undefined) return;
    flags |= 1 << bit;
    parts.push(bytes());
  };
  const ss = (s: string) => fieldBytes(['shortstr', s]);
  add(15, p.contentType, () => ss(p.contentType!));
  add(14, p.contentEncoding, () => ss(p.contentEncoding!));
  add(13, p.headers, () => tableBytes(p.headers!));
  add(12, p.deliveryMode, () => Buffer.from([p.deliveryMode!]));
  add(11, p.priority, () => Buffer.from([p.priority!]));
  add(10, p.correlationId, () => ss(p.correlationId!));
  add(9, p.replyTo, () => ss(p.replyTo!));
  add(8, p.expiration, () => ss(p.expiration!));
  add(7, p.messageId, () => ss(p.messageId!));
  add(6, p.timestamp, () => fieldBytes(['timestamp', p.timestamp!]));
  add(5, p.type, () => ss(p.type!));
  add(4, p.userId, () => ss(p.userId!));
  add(3, p.appId, () => ss(p.appId!));
  add(2, p.clusterId, () => ss(p.clusterId!));
  const f = Buffer.alloc(2);
  f.writeUInt16BE(flags);
  return Buffer.concat([f, ...parts]);
}

// ---------------------------------------------------------------------------------------------------
// Common methods, laid out by hand from the 0-9-1 spec (class ids: connection 10, channel 20,
// exchange 40, queue 50, basic 60, confirm 85, tx 90).

export const methods = {
  connectionStartOk: (clientProperties: readonly TableEntry[] = [], mechanism = 'PLAIN',
    response: string | Buffer = '\u0000guest\u0000guest', locale = 'en_US') =>
    methodFrame(0, 10, 11, [['table', clientProperties], ['shortstr', mechanism], ['longstr', response],
      ['shortstr', locale]]),
  connectionTuneOk: (channelMax: number, frameMax: number, heartbeat: number) =>
    methodFrame(0, 10, 31, [['short', channelMax], ['long', frameMax], ['short', heartbeat]]),
  connectionOpen: (vhost = '/') =>
    methodFrame(0, 10, 40, [['shortstr', vhost], ['shortstr', ''], ['bits', [false]]]),
  connectionClose: (code = 200, text = 'bye', classId = 0, methodId = 0) =>
    methodFrame(0, 10, 50, [['short', code], ['shortstr', text], ['short', classId], ['short', methodId]]),
  connectionCloseOk: () => methodFrame(0, 10, 51),
  channelOpen: (channel: number) => methodFrame(channel, 20, 10, [['shortstr', '']]),
  channelClose: (channel: number, code = 200, text = 'bye', classId = 0, methodId = 0) =>
    methodFrame(channel, 20, 40, [['short', code], ['shortstr', text], ['short', classId], ['short', methodId]]),
  channelCloseOk: (channel: number) => methodFrame(channel, 20, 41),
  exchangeDeclare: (channel: number, exchange: string, type: string,
    flags: { passive?: boolean; durable?: boolean; autoDelete?: boolean; internal?: boolean; noWait?: boolean } = {},
    args: readonly TableEntry[] = []) =>
    methodFrame(channel, 40, 10, [['short', 0], ['shortstr', exchange], ['shortstr', type],
      ['bits', [!!flags.passive, !!flags.durable, !!flags.autoDelete, !!flags.internal, !!flags.noWait]],
      ['table', args]]),
  queueDeclare: (channel: number, queue: string,
    flags: { passive?: boolean; durable?: boolean; exclusive?: boolean; autoDelete?: boolean; noWait?: boolean } = {},
    args: readonly TableEntry[] = []) =>
    methodFrame(channel, 50, 10, [['short', 0], ['shortstr', queue],
      ['bits', [!!flags.passive, !!flags.durable, !!flags.exclusive, !!flags.autoDelete, !!flags.noWait]],
      ['table', args]]),
  queueBind: (channel: number, queue: string, exchange: string, routingKey: string, args: readonly TableEntry[] = []) =>
    methodFrame(channel, 50, 20, [['short', 0], ['shortstr', queue], ['shortstr', exchange], ['shortstr', routingKey],
      ['bits', [false]], ['table', args]]),
  basicQos: (channel: number, prefetchCount: number, global = false, prefetchSize = 0) =>
    methodFrame(channel, 60, 10, [['long', prefetchSize], ['short', prefetchCount], ['bits', [global]]]),
  basicConsume: (channel: number, queue: string, consumerTag = '',
    flags: { noLocal?: boolean; noAck?: boolean; exclusive?: boolean; noWait?: boolean } = {},
    args: readonly TableEntry[] = []) =>
    methodFrame(channel, 60, 20, [['short', 0], ['shortstr', queue], ['shortstr', consumerTag],
      ['bits', [!!flags.noLocal, !!flags.noAck, !!flags.exclusive, !!flags.noWait]], ['table', args]]),
  basicPublish: (channel: number, exchange: string, routingKey: string, mandatory = false, immediate = false) =>
    methodFrame(channel, 60, 40, [['short', 0], ['shortstr', exchange], ['shortstr', routingKey],
      ['bits', [mandatory, immediate]]]),
  basicAck: (channel: number, deliveryTag: number | bigint, multiple = false) =>
    methodFrame(channel, 60, 80, [['longlong', deliveryTag], ['bits', [multiple]]]),
  confirmSelect: (channel: number, noWait = false) => methodFrame(channel, 85, 10, [['bits', [noWait]]]),
} as const;

/** basic.publish + content header + body frames, as one buffer. */
export function publishFrames(channel: number, exchange: string, routingKey: string, body: Buffer | string,
  props: BasicProps = {}, frameMax = 131072): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  return Buffer.concat([
    methods.basicPublish(channel, exchange, routingKey),
    contentHeaderFrame(channel, 60, b.length, basicProperties(props)),
    bodyFrames(channel, b, frameMax),
  ]);
}

// ---------------------------------------------------------------------------------------------------

function toBuf(s: string | Buffer): Buffer {
  return typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
}

function longstr(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}
