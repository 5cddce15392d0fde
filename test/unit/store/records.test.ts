import { expect } from 'chai';
import fc from 'fast-check';
import {
  ENTRY_RECORD_VERSION, ENTRY_VALUE_SIZE, RECORD_VERSION, RecordFormatError, decodeBinding, decodeEntry, decodeExchange, decodeFormat,
  decodeMessage, decodeQueue, encodeBinding, encodeEntry, encodeExchange, encodeFormat, encodeMessage, encodeQueue,
} from '../../../src/store/records.js';
import { type FieldTable, field, tableOf } from '../../../src/types/field-table.js';

const ARGS: FieldTable = tableOf([
  ['x-message-ttl', field.int(60000)],
  ['x-queue-mode', field.str('lazy')],
  ['nested', field.table(tableOf([['deep', field.array([field.bool(false), field.long(-5)])]]))],
  ['bytes', { type: 'x', value: Buffer.from([0, 255]) }],
  ['u', { type: 'u', value: 65535 }],
]);

/** Re-encoding the decoded value must give the same bytes: the type letters survived. */
function sameBytes(a: Buffer, b: Buffer): void {
  expect(a.toString('hex')).to.equal(b.toString('hex'));
}

describe('store records', () => {
  it('round-trips exchanges, keeping argument types', () => {
    const v = { type: 'x-custom', autoDelete: true, internal: false, arguments: ARGS };
    const buf = encodeExchange(v);
    expect(buf[0]).to.equal(RECORD_VERSION);
    const back = decodeExchange(buf);
    expect([back.type, back.autoDelete, back.internal]).to.deep.equal(['x-custom', true, false]);
    sameBytes(encodeExchange(back), buf);
  });

  it('round-trips queues with their id', () => {
    fc.assert(fc.property(fc.maxSafeNat(), fc.boolean(), (id, autoDelete) => {
      const buf = encodeQueue({ id, autoDelete, arguments: ARGS });
      const back = decodeQueue(buf);
      expect([back.id, back.autoDelete]).to.deep.equal([id, autoDelete]);
      sameBytes(encodeQueue(back), buf);
    }));
  });

  it('round-trips messages byte for byte, with views into the record (no copies on read)', () => {
    fc.assert(fc.property(
      fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 3000 }),
      (exchange, routingKey, props, body) => {
        const buf = encodeMessage(exchange, routingKey, Buffer.from(props), Buffer.from(body));
        const m = decodeMessage(buf);
        expect([m.exchange, m.routingKey]).to.deep.equal([exchange, routingKey]);
        expect(m.properties.equals(Buffer.from(props))).to.equal(true);
        expect(m.body.equals(Buffer.from(body))).to.equal(true);
        expect(m.body.buffer).to.equal(buf.buffer);
      },
    ));
  });

  it('round-trips entries in a fixed 23 bytes, with body size, priority and sharing', () => {
    fc.assert(fc.property(
      fc.maxSafeNat(), fc.boolean(), fc.maxSafeNat(), fc.nat({ max: 0xffff_ffff }), fc.nat({ max: 255 }), fc.boolean(),
      (messageId, delivered, expiresAt, size, priority, shared) => {
        const buf = encodeEntry(messageId, delivered, expiresAt, size, priority, shared);
        expect(buf.length).to.equal(ENTRY_VALUE_SIZE);
        expect(buf[0]).to.equal(ENTRY_RECORD_VERSION);
        expect(decodeEntry(buf)).to.deep.equal({ messageId, delivered, shared, expiresAt, size, priority });
      },
    ));
  });

  it('round-trips bindings and the format record', () => {
    decodeBinding(encodeBinding());
    expect(decodeFormat(encodeFormat(7))).to.equal(7);
  });

  it('rejects every truncation, trailing bytes and an unknown version with RecordFormatError', () => {
    const samples: Array<[Buffer, (b: Buffer) => unknown]> = [
      [encodeExchange({ type: 'direct', autoDelete: false, internal: true, arguments: ARGS }), decodeExchange],
      [encodeQueue({ id: 3, autoDelete: false, arguments: ARGS }), decodeQueue],
      [encodeEntry(1, true, 2, 3, 4, true), decodeEntry],
      [encodeFormat(1), decodeFormat],
    ];
    for (const [buf, decode] of samples) {
      for (let n = 0; n < buf.length; n++) {
        expect(() => decode(buf.subarray(0, n)), `${decode.name} truncated to ${n}`).to.throw(RecordFormatError);
      }
      expect(() => decode(Buffer.concat([buf, Buffer.of(0)]))).to.throw(RecordFormatError, /trailing/);
      const future = Buffer.from(buf);
      future[0] = 9;
      expect(() => decode(future)).to.throw(RecordFormatError, /record version 9/);
    }
    // Entries are at their own version 2; a version-1 entry (never shipped) is refused.
    const v1 = encodeEntry(1, false, 0, 0, 0, false);
    v1[0] = 1;
    expect(() => decodeEntry(v1)).to.throw(RecordFormatError, /record version 1 \(this Warren reads version 2\)/);
        const msg = encodeMessage('e', 'r', Buffer.from('props'), Buffer.from('body'));
    // A message's body is the rest of the record, so only cuts inside the header fields are detectable.
    for (let n = 0; n < 1 + 2 + 2 + 4 + 5; n++) expect(() => decodeMessage(msg.subarray(0, n))).to.throw(RecordFormatError);
    expect(() => decodeBinding(Buffer.of(RECORD_VERSION, 0))).to.throw(RecordFormatError);
  });

  it('never throws anything but RecordFormatError on arbitrary bytes', () => {
    const decoders = [decodeExchange, decodeQueue, decodeMessage, decodeEntry, decodeBinding, decodeFormat];
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      for (const decode of decoders) {
        try {
          decode(Buffer.from(bytes));
        } catch (err) {
          expect(err).to.be.instanceOf(RecordFormatError);
        }
      }
    }));
  });
});
