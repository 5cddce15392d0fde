/**
 * Codec benchmark: Warren's generated codec against amqplib's own (lib/defs.js + lib/frame.js, generated
 * from RabbitMQ's spec) on the same frames, in the same run, in frames per second.
 *
 * Frame groups (each counts its frames: a content-bearing method is 3 frames):
 *   publish  basic.publish + content header + 16-byte body   (what a broker decodes, a client encodes)
 *   deliver  basic.deliver + content header + 16-byte body   (what a broker encodes, a client decodes)
 *   ack      basic.ack
 * Properties are what amqplib sends for `publish(ex, key, body, { contentType, deliveryMode: 1 })`:
 * content-type, delivery-mode and an empty headers table (amqplib always sends headers).
 *
 * Like for like:
 * - decode: both sides get the same bytes in 64 KiB chunks (a typical socket read) and produce every
 *   method's fields, the content header (class, body size, every property decoded) and the body as a
 *   view. amqplib: its connection's loop (concat the chunk onto the rest, parseFrame, decodeFrame).
 *   Warren: FrameParser → decodeMethod / readContentHeader + decodeBasicProperties.
 * - encode: both produce the wire bytes from method fields and a properties object. amqplib: what its
 *   sendMessage does (encodeMethod, encodeProperties, makeBodyFrame, one coalesced buffer); Warren:
 *   FrameWriter.writeMethod + encodeBasicPropertiesBuffer + writeContent into its slab, flushed to a
 *   null sink every 64 messages. The bytes are checked to be identical before timing.
 * Two extra Warren-only lines show what the broker itself does: decode with the properties kept raw
 * (the command assembler's view) and deliver encode re-emitting raw property bytes (Channel.deliver).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readContentHeader } from '../src/protocol/content-header.js';
import { FrameParser } from '../src/protocol/frame-parser.js';
import { FrameWriter, type FrameSink } from '../src/protocol/frame-writer.js';
import { ClassId, FrameType } from '../src/protocol/generated/constants.js';
import {
  type BasicAck, type BasicDeliver, type BasicPublish, MethodId, decodeMethod, encodeBasicDeliver, sizeBasicDeliver,
} from '../src/protocol/generated/methods.js';
import {
  type BasicProperties, decodeBasicProperties, encodeBasicPropertiesBuffer,
} from '../src/protocol/generated/properties.js';

interface AmqplibFrame { type: number; channel: number; size: number; payload: Buffer; rest: Buffer }
interface AmqplibDefs {
  encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
  encodeProperties(id: number, channel: number, size: number, fields: Record<string, unknown>): Buffer;
  FRAME_OVERHEAD: number;
}
interface AmqplibFrameModule {
  parseFrame(bin: Buffer, max: number): AmqplibFrame | false;
  decodeFrame(frame: AmqplibFrame): { id?: number; channel: number; fields?: Record<string, unknown>; size?: number; content?: Buffer };
  makeBodyFrame(channel: number, payload: Buffer): Buffer;
}

/** amqplib's package exports hide lib/; reach it beside its main entry point (as test/codegen does). */
function loadAmqplib(): { defs: AmqplibDefs; frame: AmqplibFrameModule; version: string } {
  const req = createRequire(import.meta.url);
  const dir = dirname(req.resolve('amqplib'));
  return {
    defs: req(join(dir, 'lib', 'defs.js')) as AmqplibDefs,
    frame: req(join(dir, 'lib', 'frame.js')) as AmqplibFrameModule,
    version: (req(join(dir, 'package.json')) as { version: string }).version,
  };
}

const CHANNEL = 1;
const BODY = Buffer.alloc(16, 0x61);
const FRAME_MAX = 131072;
const CHUNK = 64 * 1024;
/** Message groups per encoded input / per encode batch. */
const GROUPS = 2000;

const CONSUMER_TAG = 'amq.ctag-Xq3k9vJ2m0PZ8w1T5yBcRg'; // RabbitMQ's format: amq.ctag- + 22 chars
const QUEUE = 'bench.queue';

const warrenProps: BasicProperties = { contentType: 'application/octet-stream', headers: new Map(), deliveryMode: 1 };
const amqplibProps = { contentType: 'application/octet-stream', headers: {}, deliveryMode: 1 };

type Kind = 'publish' | 'deliver' | 'ack';
const FRAMES_PER_GROUP: Record<Kind, number> = { publish: 3, deliver: 3, ack: 1 };

export interface CodecResult {
  kind: Kind;
  op: 'decode' | 'encode';
  warren: number;
  amqplib: number;
  ratio: number;
  /** Warren's broker path (raw properties), where it differs from the like-for-like figure. */
  warrenBroker?: number;
}

class NullSink implements FrameSink {
  bytes = 0;
  write(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    return true;
  }
  cork(): void {}
  uncork(): void {}
}

// ------------------------------------------------------------------------------------------ encoders

/** amqplib's sendMessage / sendMethod, minus the socket. */
function makeAmqplibEncoder(lib: ReturnType<typeof loadAmqplib>, kind: Kind): (i: number) => Buffer {
  const { defs, frame } = lib;
  const overhead = defs.FRAME_OVERHEAD;
  const message = (id: number, fields: Record<string, unknown>): Buffer => {
    const mframe = defs.encodeMethod(id, CHANNEL, fields);
    const pframe = defs.encodeProperties(ClassId.Basic, CHANNEL, BODY.length, amqplibProps);
    const all = Buffer.allocUnsafe(mframe.length + pframe.length + BODY.length + overhead);
    let off = mframe.copy(all, 0);
    off += pframe.copy(all, off);
    frame.makeBodyFrame(CHANNEL, BODY).copy(all, off);
    return all;
  };
  switch (kind) {
    case 'publish': {
      const fields = { ticket: 0, exchange: '', routingKey: QUEUE, mandatory: false, immediate: false };
      return () => message(MethodId.BasicPublish, fields);
    }
    case 'deliver': {
      const fields = { consumerTag: CONSUMER_TAG, deliveryTag: 0, redelivered: false, exchange: '', routingKey: QUEUE };
      return (i) => {
        fields.deliveryTag = i + 1;
        return message(MethodId.BasicDeliver, fields);
      };
    }
    case 'ack': {
      const fields = { deliveryTag: 0, multiple: false };
      return (i) => {
        fields.deliveryTag = i + 1;
        return defs.encodeMethod(MethodId.BasicAck, CHANNEL, fields);
      };
    }
  }
}

/** Warren's writer: `encode(i)` appends group i to the slab; `flush()` hands the bytes to the sink. */
function makeWarrenEncoder(kind: Kind, rawProperties: boolean, sink: FrameSink): { encode: (i: number) => void; writer: FrameWriter } {
  const w = new FrameWriter(sink, FRAME_MAX);
  const raw = encodeBasicPropertiesBuffer(warrenProps);
  switch (kind) {
    case 'publish': {
      const m: BasicPublish = { id: MethodId.BasicPublish, ticket: 0, exchange: '', routingKey: QUEUE, mandatory: false, immediate: false };
      return {
        writer: w,
        encode: () => {
          w.writeMethod(CHANNEL, m);
          w.writeContent(CHANNEL, ClassId.Basic, rawProperties ? raw : encodeBasicPropertiesBuffer(warrenProps), BODY);
        },
      };
    }
    case 'deliver': {
      // The broker's path (Channel.deliver): one mutable args object, encodeBasicDeliver into the slab.
      const a = { consumerTag: CONSUMER_TAG, deliveryTag: 0, redelivered: false, exchange: '', routingKey: QUEUE };
      return {
        writer: w,
        encode: (i) => {
          a.deliveryTag = i + 1;
          const buf = w.reserve(sizeBasicDeliver(a));
          w.commit(encodeBasicDeliver(buf, w.offset, CHANNEL, a));
          w.writeContent(CHANNEL, ClassId.Basic, rawProperties ? raw : encodeBasicPropertiesBuffer(warrenProps), BODY);
        },
      };
    }
    case 'ack': {
      const m: BasicAck = { id: MethodId.BasicAck, deliveryTag: 0, multiple: false };
      return {
        writer: w,
        encode: (i) => {
          m.deliveryTag = i + 1;
          w.writeMethod(CHANNEL, m);
        },
      };
    }
  }
}

// ------------------------------------------------------------------------------------------ decoders

/** Counts what was decoded so the work cannot be optimised away, and lets us check both sides agree. */
interface Tally { frames: number; check: number }

class WarrenDecodeHandler {
  frames = 0;
  check = 0;
  constructor(private readonly decodeProperties: boolean) {}
  onProtocolHeader(): void {}
  onFrame(type: number, _channel: number, payload: Buffer): void {
    this.frames++;
    if (type === FrameType.Method) {
      const m = decodeMethod(payload, 0, payload.length)!;
      switch (m.id) {
        case MethodId.BasicPublish: this.check += m.routingKey.length; break;
        case MethodId.BasicDeliver: this.check += m.deliveryTag + m.consumerTag.length; break;
        case MethodId.BasicAck: this.check += m.deliveryTag; break;
        default: break;
      }
    } else if (type === FrameType.Header) {
      const h = readContentHeader(payload);
      if (this.decodeProperties) {
        const p = h.properties;
        this.check += h.bodySize + (decodeBasicProperties(p, 0, p.length).deliveryMode ?? 0);
      } else {
        this.check += h.bodySize + h.properties.length;
      }
    } else {
      this.check += payload.length;
    }
  }
}

function warrenDecode(chunks: readonly Buffer[], decodeProperties: boolean): Tally {
  const h = new WarrenDecodeHandler(decodeProperties);
  const parser = new FrameParser(h, FRAME_MAX, { protocolHeader: false });
  for (const c of chunks) parser.push(c);
  return { frames: h.frames, check: h.check };
}

function amqplibDecode(lib: ReturnType<typeof loadAmqplib>, chunks: readonly Buffer[]): Tally {
  const { parseFrame, decodeFrame } = lib.frame;
  let rest: Buffer = Buffer.alloc(0);
  let frames = 0;
  let check = 0;
  for (const c of chunks) {
    rest = Buffer.concat([rest, c]); // amqplib's recvFrame
    for (let f = parseFrame(rest, FRAME_MAX); f !== false; f = parseFrame(rest, FRAME_MAX)) {
      rest = f.rest;
      const d = decodeFrame(f);
      frames++;
      const fields = d.fields;
      if (f.type === FrameType.Method && fields !== undefined) {
        if (d.id === MethodId.BasicPublish) check += (fields['routingKey'] as string).length;
        else if (d.id === MethodId.BasicDeliver) check += (fields['deliveryTag'] as number) + (fields['consumerTag'] as string).length;
        else if (d.id === MethodId.BasicAck) check += fields['deliveryTag'] as number;
      } else if (f.type === FrameType.Header && fields !== undefined) {
        check += (d.size ?? 0) + ((fields['deliveryMode'] as number | undefined) ?? 0);
      } else if (d.content !== undefined) {
        check += d.content.length;
      }
    }
  }
  return { frames, check };
}

// ------------------------------------------------------------------------------------------ timing

/** Runs `fn` (which processes `frames` frames) repeatedly for about `ms`; returns frames per second. */
function rate(fn: () => unknown, framesPerCall: number, ms: number): number {
  const deadline = process.hrtime.bigint() + BigInt(ms) * 1_000_000n;
  let calls = 0;
  const t0 = process.hrtime.bigint();
  let t = t0;
  do {
    fn();
    calls++;
    t = process.hrtime.bigint();
  } while (t < deadline);
  return (calls * framesPerCall) / (Number(t - t0) / 1e9);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Alternates the contenders round by round (so drift hits both alike) and keeps each one's median. */
function race(contenders: ReadonlyArray<{ fn: () => unknown; frames: number }>, rounds: number, ms: number): number[] {
  const results: number[][] = contenders.map(() => []);
  for (const c of contenders) rate(c.fn, c.frames, Math.min(ms, 150)); // warm-up: let both reach optimised code
  for (let r = 0; r < rounds; r++) {
    contenders.forEach((c, i) => results[i]!.push(rate(c.fn, c.frames, ms)));
  }
  return results.map(median);
}

function splitChunks(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 0; p < buf.length; p += size) out.push(buf.subarray(p, Math.min(buf.length, p + size)));
  return out;
}

export interface CodecOptions {
  /** Milliseconds per timed round (default 300). */
  ms?: number;
  /** Rounds per contender; the median is reported (default 5). */
  rounds?: number;
}

export function runCodecBench(options: CodecOptions = {}): { amqplibVersion: string; results: CodecResult[] } {
  const ms = options.ms ?? 300;
  const rounds = options.rounds ?? 5;
  const lib = loadAmqplib();
  const results: CodecResult[] = [];
  for (const kind of ['publish', 'deliver', 'ack'] as const) {
    const frames = GROUPS * FRAMES_PER_GROUP[kind];

    // The input both decoders read: amqplib's encoding, which must equal Warren's byte for byte.
    const encA = makeAmqplibEncoder(lib, kind);
    const wire = Buffer.concat(Array.from({ length: GROUPS }, (_, i) => encA(i)));
    const sink = new NullSink();
    const parts: Buffer[] = [];
    const collect: FrameSink = { write: (b) => (parts.push(Buffer.from(b)), true), cork() {}, uncork() {} };
    const encCheck = makeWarrenEncoder(kind, false, collect);
    for (let i = 0; i < GROUPS; i++) encCheck.encode(i);
    encCheck.writer.flush();
    if (!Buffer.concat(parts).equals(wire)) throw new Error(`codec bench: Warren and amqplib encode ${kind} differently`);

    const chunks = splitChunks(wire, CHUNK);
    const a = amqplibDecode(lib, chunks);
    const w = warrenDecode(chunks, true);
    if (a.frames !== frames || w.frames !== frames || a.check !== w.check) {
      throw new Error(`codec bench: ${kind} decoded differently (amqplib ${a.frames}/${a.check}, Warren ${w.frames}/${w.check})`);
    }

    const [wDec, aDec, wDecRaw] = race([
      { fn: () => warrenDecode(chunks, true), frames },
      { fn: () => amqplibDecode(lib, chunks), frames },
      { fn: () => warrenDecode(chunks, false), frames },
    ], rounds, ms);
    results.push({
      kind, op: 'decode', warren: wDec!, amqplib: aDec!, ratio: wDec! / aDec!,
      ...(kind === 'ack' ? {} : { warrenBroker: wDecRaw! }),
    });

    const wEnc = makeWarrenEncoder(kind, false, sink);
    const wEncRaw = makeWarrenEncoder(kind, true, sink);
    const warrenBatch = (e: typeof wEnc) => (): void => {
      for (let i = 0; i < GROUPS; i++) {
        e.encode(i);
        if ((i & 63) === 63) e.writer.flush();
      }
      e.writer.flush();
    };
    const amqplibBatch = (): number => {
      let n = 0;
      for (let i = 0; i < GROUPS; i++) n += encA(i).length;
      return n;
    };
    const [wE, aE, wERaw] = race([
      { fn: warrenBatch(wEnc), frames },
      { fn: amqplibBatch, frames },
      { fn: warrenBatch(wEncRaw), frames },
    ], rounds, ms);
    results.push({
      kind, op: 'encode', warren: wE!, amqplib: aE!, ratio: wE! / aE!,
      ...(kind === 'deliver' ? { warrenBroker: wERaw! } : {}),
    });
  }
  return { amqplibVersion: lib.version, results };
}

export function formatCodecResult(r: CodecResult): string {
  const f = (x: number) => `${(x / 1e6).toFixed(2)} M`;
  const extra = r.warrenBroker === undefined ? ''
    : `   (Warren broker path, raw properties: ${f(r.warrenBroker)} frames/s)`;
  return `codec ${r.op.padEnd(6)} ${r.kind.padEnd(8)} Warren ${f(r.warren)} frames/s   amqplib ${f(r.amqplib)} frames/s   ` +
    `Warren/amqplib ${r.ratio.toFixed(2)}x${extra}`;
}
