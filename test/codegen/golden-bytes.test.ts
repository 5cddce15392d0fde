/**
 * Golden bytes computed by hand from AMQP 0-9-1 §4.2 (frame = type, channel, size, payload, 0xCE;
 * method payload = class id, method id, arguments; bits packed low bit first), plus the codec's
 * behaviour on malformed input and unencodable values.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { AmqpError } from '../../src/errors.js';
import { FRAME_END, FrameType, ReplyCode, REPLY_CODE_NAMES, isHardError } from '../../src/protocol/generated/constants.js';
import {
  MethodId, REPLIES, decodeMethod, encodeBasicDeliver, encodeMethod, encodeMethodFrame, expectsReply, hasContent,
  isSynchronous, methodFrameSize, methodName, sizeBasicDeliver, type Method,
} from '../../src/protocol/generated/methods.js';
import {
  decodeBasicProperties, encodeBasicProperties, encodeBasicPropertiesBuffer, type BasicProperties,
} from '../../src/protocol/generated/properties.js';
import { readLonglong } from '../../src/protocol/generated/wire.js';
import { EMPTY_TABLE, field, tableEquals, tableOf } from '../../src/types/field-table.js';

/** Hex with spaces and 'quoted ascii' allowed: hexBytes("01 0001 'ab' ce"). */
function hexBytes(spec: string): Buffer {
  const parts: Buffer[] = [];
  for (const token of spec.match(/'[^']*'|[0-9a-f]+/gi) ?? []) {
    parts.push(token.startsWith("'") ? Buffer.from(token.slice(1, -1), 'utf8') : Buffer.from(token, 'hex'));
  }
  return Buffer.concat(parts);
}

function expectFrameError(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(AmqpError);
    expect((err as AmqpError).replyCode).to.equal(ReplyCode.FrameError);
    expect((err as AmqpError).message).to.match(pattern);
    return;
  }
  expect.fail('expected a FRAME_ERROR');
}

/** One example of every method, with non-empty strings so that any truncation is detectable. */
const EXAMPLES: Method[] = [
  { id: MethodId.BasicPublish, ticket: 0, exchange: 'ex', routingKey: 'rk', mandatory: true, immediate: false },
  { id: MethodId.ConnectionTune, channelMax: 2047, frameMax: 131072, heartbeat: 60 },
  { id: MethodId.BasicDeliver, consumerTag: 'ct', deliveryTag: 2 ** 32 + 5, redelivered: true, exchange: '', routingKey: 'q' },
  {
    id: MethodId.QueueDeclare, ticket: 0, queue: 'q', passive: false, durable: true, exclusive: false, autoDelete: true,
    nowait: false, arguments: tableOf([['x-max-length', field.int(10)]]),
  },
  { id: MethodId.AccessRequest, realm: '/data', exclusive: false, passive: true, active: true, write: true, read: true },
  { id: MethodId.ExchangeUnbindOk },
  {
    id: MethodId.ConnectionStartOk, clientProperties: tableOf([['product', field.str('x')]]), mechanism: 'PLAIN',
    response: Buffer.from('\0guest\0guest'), locale: 'en_US',
  },
];

const GOLDEN: ReadonlyArray<readonly [string, number, Method, string]> = [
  // type 1, channel 1, size 13: class 60 method 40, ticket 0, 'ex', 'rk', bits mandatory=1
  ['basic.publish', 1, EXAMPLES[0]!, "01 0001 0000000d 003c 0028 0000 02 'ex' 02 'rk' 01 ce"],
  // channel 0, size 12: class 10 method 30, channel-max 2047, frame-max 131072, heartbeat 60
  ['connection.tune', 0, EXAMPLES[1]!, '01 0000 0000000c 000a 001e 07ff 00020000 003c ce'],
  // delivery tag 2^32 + 5 exercises the high word of the longlong; redelivered is bit 0
  ['basic.deliver', 2, EXAMPLES[2]!, "01 0002 00000013 003c 003c 02 'ct' 00000001 00000005 01 00 01 'q' ce"],
  // durable = bit 1, auto-delete = bit 3 → 0x0a; table: length 18, key 'x-max-length', 'I', 10
  ['queue.declare', 3, EXAMPLES[3]!, "01 0003 0000001f 0032 000a 0000 01 'q' 0a 00000012 0c 'x-max-length' 'I' 0000000a ce"],
  // passive, active, write, read = bits 1..4 → 0x1e
  ['access.request', 1, EXAMPLES[4]!, "01 0001 0000000b 001e 000a 05 '/data' 1e ce"],
  // RabbitMQ's exchange.unbind-ok is method 51 (0x33)
  ['exchange.unbind-ok', 1, EXAMPLES[5]!, '01 0001 00000004 0028 0033 ce'],
];

describe('generated codec: golden bytes', () => {
  for (const [name, channel, method, hex] of GOLDEN) {
    it(`${name} encodes to the hand-computed frame and decodes back`, () => {
      const expected = hexBytes(hex);
      const frame = encodeMethodFrame(channel, method);
      expect(frame.toString('hex')).to.equal(expected.toString('hex'));
      expect(methodFrameSize(method)).to.equal(expected.length);
      expect(frame[0]).to.equal(FrameType.Method);
      expect(frame[frame.length - 1]).to.equal(FRAME_END);
      const decoded = decodeMethod(expected, 7, expected.length - 1);
      expect(decoded).to.not.equal(undefined);
      const { arguments: args, ...rest } = decoded as Method & { arguments?: typeof EMPTY_TABLE };
      const { arguments: expectedArgs, ...expectedRest } = method as Method & { arguments?: typeof EMPTY_TABLE };
      expect(rest).to.deep.equal(expectedRest);
      if (expectedArgs !== undefined) expect(tableEquals(args!, expectedArgs)).to.equal(true);
    });
  }

  it('encodes at an offset into a shared buffer and returns the new offset', () => {
    const deliver = EXAMPLES[2] as Extract<Method, { id: typeof MethodId.BasicDeliver }>;
    const size = sizeBasicDeliver(deliver);
    const buf = Buffer.alloc(3 + size * 2, 0xaa);
    const mid = encodeBasicDeliver(buf, 3, 2, deliver);
    expect(mid).to.equal(3 + size);
    expect(encodeMethod(buf, mid, 2, deliver)).to.equal(3 + size * 2);
    expect(buf.subarray(0, 3).toString('hex')).to.equal('aaaaaa');
    expect(buf.subarray(3, mid).equals(buf.subarray(mid))).to.equal(true);
    expect(buf.subarray(3, mid).equals(encodeMethodFrame(2, deliver))).to.equal(true);
  });

  it('basic properties: flags word then present values in order', () => {
    const props: BasicProperties = { contentType: 'text/plain', deliveryMode: 2, timestamp: 1700000000 };
    // content-type = bit 15, delivery-mode = bit 12, timestamp = bit 6 → 0x9040
    const expected = hexBytes("9040 0a 'text/plain' 02 000000006553f100");
    expect(encodeBasicPropertiesBuffer(props).toString('hex')).to.equal(expected.toString('hex'));
    const buf = Buffer.alloc(expected.length + 4);
    expect(encodeBasicProperties(buf, 4, props)).to.equal(buf.length);
    const decoded = decodeBasicProperties(expected, 0, expected.length);
    expect(decoded.contentType).to.equal('text/plain');
    expect(decoded.deliveryMode).to.equal(2);
    expect(decoded.timestamp).to.equal(1700000000);
    expect(decoded.headers).to.equal(undefined);
    expect(Object.keys(decoded)).to.have.length(14);
    expect(encodeBasicPropertiesBuffer({}).toString('hex')).to.equal('0000');
  });
});

describe('generated codec: malformed input', () => {
  it('every strict prefix of every example method payload is a FRAME_ERROR naming the method', () => {
    for (const method of EXAMPLES) {
      const frame = encodeMethodFrame(1, method);
      const payload = frame.subarray(7, frame.length - 1);
      expect(decodeMethod(payload, 0, payload.length)).to.not.equal(undefined);
      for (let cut = 0; cut < payload.length; cut++) {
        const pattern = cut < 4 ? /FRAME_ERROR - cannot decode method/ : new RegExp(`cannot decode ${methodName(method.id)}`);
        expectFrameError(() => decodeMethod(payload, 0, cut), pattern);
      }
    }
  });

  it('bytes after the last field are a FRAME_ERROR (as RabbitMQ: "cannot decode")', () => {
    const frame = encodeMethodFrame(1, EXAMPLES[0]!);
    const payload = Buffer.concat([frame.subarray(7, frame.length - 1), Buffer.from([0])]);
    expectFrameError(() => decodeMethod(payload, 0, payload.length), /cannot decode basic\.publish: 1 unexpected byte/);
    const empty = Buffer.from('0028003300', 'hex');
    expectFrameError(() => decodeMethod(empty, 0, empty.length), /cannot decode exchange\.unbind-ok/);
  });

  it('a shortstr length running past the end is a FRAME_ERROR, even when the buffer goes on', () => {
    // basic.publish whose exchange claims 200 bytes; `end` stops the decoder before the buffer does
    const buf = Buffer.concat([hexBytes("003c 0028 0000 c8 'ex'"), Buffer.alloc(300)]);
    expectFrameError(() => decodeMethod(buf, 0, 9), /cannot decode basic\.publish: truncated/);
  });

  it('an unknown class/method id decodes to undefined (the server picks the reply)', () => {
    const payload = Buffer.from('003c00ff', 'hex');
    expect(decodeMethod(payload, 0, payload.length)).to.equal(undefined);
    expect(methodName(0x003c00ff)).to.equal('unknown method 60/255');
  });

  it('basic properties: undefined flag bits and truncation are FRAME_ERRORs; empty continuation words are skipped', () => {
    expectFrameError(() => decodeBasicProperties(Buffer.from('0002', 'hex'), 0, 2), /flags 0x0002 name an undefined property/);
    expectFrameError(() => decodeBasicProperties(Buffer.from('8000', 'hex'), 0, 2), /cannot decode basic properties: truncated/);
    expectFrameError(() => decodeBasicProperties(Buffer.from('80', 'hex'), 0, 1), /truncated/);
    expectFrameError(() => decodeBasicProperties(Buffer.from('0001 8000'.replace(' ', ''), 'hex'), 0, 4), /flags 0x8000 name an undefined property/);
    expectFrameError(() => decodeBasicProperties(Buffer.from('000000', 'hex'), 0, 3), /1 unexpected byte/);
    const continued = hexBytes("8001 0001 0000 01 'x'");
    expect(decodeBasicProperties(continued, 0, continued.length).contentType).to.equal('x');
  });
});

describe('generated codec: unencodable values', () => {
  const publish = (exchange: string): Method => ({ id: MethodId.BasicPublish, ticket: 0, exchange, routingKey: '', mandatory: false, immediate: false });
  const ack = (deliveryTag: number): Method => ({ id: MethodId.BasicAck, deliveryTag, multiple: false });

  it('a shortstr over 255 UTF-8 bytes is a RangeError; 255 bytes is fine', () => {
    expect(encodeMethodFrame(1, publish('é'.repeat(127) + 'a')).length).to.equal(17 + 255);
    expect(() => encodeMethodFrame(1, publish('é'.repeat(128)))).to.throw(RangeError, /basic\.publish exchange is 256 bytes/);
    expect(() => encodeBasicPropertiesBuffer({ messageId: 'x'.repeat(256) })).to.throw(RangeError, /messageId|message-id/);
  });

  it('a longlong that is negative, fractional or above 2^53 - 1 is a RangeError', () => {
    expect(encodeMethodFrame(1, ack(Number.MAX_SAFE_INTEGER)).subarray(11, 19).toString('hex')).to.equal('001fffffffffffff');
    for (const bad of [-1, 1.5, 2 ** 53, Number.NaN]) {
      expect(() => encodeMethodFrame(1, ack(bad)), String(bad)).to.throw(RangeError, /delivery-tag must be a non-negative safe integer/);
    }
    expect(() => encodeBasicPropertiesBuffer({ timestamp: -1 })).to.throw(RangeError);
  });

  it('integers out of their width are RangeErrors', () => {
    expect(() => encodeMethodFrame(0, { id: MethodId.ConnectionTune, channelMax: 65536, frameMax: 0, heartbeat: 0 })).to.throw(RangeError);
    expect(() => encodeBasicPropertiesBuffer({ priority: 256 })).to.throw(RangeError);
    expect(() => encodeMethodFrame(65536, EXAMPLES[5]!)).to.throw(RangeError);
  });

  it('reads longlongs exactly as Number(readBigUInt64BE) would, above 2^53 too', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (n) => {
      const buf = Buffer.alloc(8);
      buf.writeBigUInt64BE(n);
      expect(readLonglong(buf, 0)).to.equal(Number(buf.readBigUInt64BE(0)));
    }), { numRuns: 2000 });
  });
});

describe('generated codec: method facts', () => {
  it('names, content, synchronous and replies', () => {
    expect(methodName(MethodId.BasicPublish)).to.equal('basic.publish');
    expect(methodName(MethodId.ConnectionUpdateSecretOk)).to.equal('connection.update-secret-ok');
    expect(MethodId.BasicPublish).to.equal((60 << 16) | 40);
    for (const id of [MethodId.BasicPublish, MethodId.BasicReturn, MethodId.BasicDeliver, MethodId.BasicGetOk]) {
      expect(hasContent(id), methodName(id)).to.equal(true);
    }
    expect(hasContent(MethodId.BasicAck)).to.equal(false);
    expect(isSynchronous(MethodId.QueueDeclare)).to.equal(true);
    expect(isSynchronous(MethodId.QueueDeclareOk)).to.equal(true);
    expect(isSynchronous(MethodId.BasicPublish)).to.equal(false);
    expect(isSynchronous(MethodId.ChannelFlowOk)).to.equal(false);
    expect(isSynchronous(0x12345678)).to.equal(false);
    expect(REPLIES[MethodId.BasicGet]).to.deep.equal([MethodId.BasicGetOk, MethodId.BasicGetEmpty]);
    expect(REPLIES[MethodId.BasicPublish]).to.equal(undefined);
  });

  it('expectsReply: synchronous requests unless nowait; never replies or async methods', () => {
    const declare = EXAMPLES[3]!;
    expect(expectsReply(declare)).to.equal(true);
    expect(expectsReply({ ...declare, nowait: true } as Method)).to.equal(false);
    expect(expectsReply({ id: MethodId.QueueDeclareOk, queue: 'q', messageCount: 0, consumerCount: 0 })).to.equal(false);
    expect(expectsReply({ id: MethodId.TxCommit })).to.equal(true);
    expect(expectsReply({ id: MethodId.ConfirmSelect, nowait: true })).to.equal(false);
    expect(expectsReply({ id: MethodId.ChannelClose, replyCode: 200, replyText: '', classId: 0, methodId: 0 })).to.equal(true);
    expect(expectsReply(EXAMPLES[0]!)).to.equal(false);
  });

  it('reply codes: names and soft/hard class', () => {
    expect(REPLY_CODE_NAMES[ReplyCode.NotFound]).to.equal('NOT_FOUND');
    expect(REPLY_CODE_NAMES[200]).to.equal('REPLY_SUCCESS');
    expect(isHardError(ReplyCode.NotFound)).to.equal(false);
    expect(isHardError(ReplyCode.PreconditionFailed)).to.equal(false);
    expect(isHardError(ReplyCode.FrameError)).to.equal(true);
    expect(isHardError(ReplyCode.ConnectionForced)).to.equal(true);
    expect(isHardError(ReplyCode.ReplySuccess)).to.equal(false);
  });
});
