import { expect } from 'chai';
import fc from 'fast-check';
import {
  KeyFormatError, KeyPrefix, bindingKey, decodeBindingKey, decodeEntityKey, decodeEntryKey, decodeMessageKey,
  entityKey, entryKey, entryRange, messageKey, prefixRange, recordKindOf,
} from '../../../src/store/keys.js';
import { field, tableOf } from '../../../src/types/field-table.js';

/** Names as AMQP allows them: up to 255 UTF-8 bytes, any characters. */
const name = fc.string({ unit: 'binary', maxLength: 60 }).filter((s) => Buffer.byteLength(s, 'utf8') <= 255);
const id = fc.maxSafeNat();

function inRange(key: Buffer, range: { gte: Buffer; lt: Buffer }): boolean {
  return Buffer.compare(key, range.gte) >= 0 && Buffer.compare(key, range.lt) < 0;
}

describe('store keys', () => {
  it('gives every kind its own prefix, and each key lies in its kind\'s range only', () => {
    const keys: Array<[Buffer, KeyPrefix]> = [
      [entityKey(KeyPrefix.Exchange, '/', 'x'), KeyPrefix.Exchange],
      [entityKey(KeyPrefix.Queue, '/', 'x'), KeyPrefix.Queue],
      [bindingKey({ vhost: '/', source: 'x', destinationKind: 'queue', destination: 'q', routingKey: '', arguments: tableOf([]) }), KeyPrefix.Binding],
      [messageKey(1), KeyPrefix.Message],
      [entryKey(1, 1), KeyPrefix.Entry],
    ];
    const prefixes = Object.values(KeyPrefix);
    expect(new Set(prefixes).size).to.equal(prefixes.length);
    for (const [key, prefix] of keys) {
      for (const p of prefixes) expect(inRange(key, prefixRange(p)), `${key.toString('hex')} in ${p}`).to.equal(p === prefix);
    }
    expect(recordKindOf(messageKey(1))).to.equal('message');
    expect(recordKindOf(Buffer.of(0))).to.equal(undefined);
  });

  it('round-trips exchange and queue keys; different names never give the same key or a prefix of another', () => {
    fc.assert(fc.property(name, name, name, name, (v1, n1, v2, n2) => {
      const a = entityKey(KeyPrefix.Queue, v1, n1);
      const b = entityKey(KeyPrefix.Queue, v2, n2);
      expect(decodeEntityKey(a)).to.deep.equal({ vhost: v1, name: n1 });
      const same = v1 === v2 && n1 === n2;
      expect(a.equals(b)).to.equal(same);
      if (!same) expect(a.subarray(0, b.length).equals(b) || b.subarray(0, a.length).equals(a)).to.equal(false);
    }));
  });

  it('orders message keys and entry keys numerically (big-endian), so key order is FIFO order', () => {
    fc.assert(fc.property(id, id, (a, b) => {
      expect(Math.sign(Buffer.compare(messageKey(a), messageKey(b)))).to.equal(Math.sign(a - b));
      expect(decodeMessageKey(messageKey(a))).to.equal(a);
    }));
    fc.assert(fc.property(id, id, id, id, (q1, s1, q2, s2) => {
      const expected = q1 !== q2 ? Math.sign(q1 - q2) : Math.sign(s1 - s2);
      expect(Math.sign(Buffer.compare(entryKey(q1, s1), entryKey(q2, s2)))).to.equal(expected);
      expect(decodeEntryKey(entryKey(q1, s1))).to.deep.equal({ queueId: q1, seq: s1 });
    }));
  });

  it('puts a queue\'s entries, and only them, in its entry range', () => {
    fc.assert(fc.property(fc.nat(1000), fc.nat(1000), id, (q, other, seq) => {
      expect(inRange(entryKey(q, seq), entryRange(q))).to.equal(true);
      expect(inRange(entryKey(other, seq), entryRange(q))).to.equal(other === q);
    }));
  });

  it('encodes a binding\'s whole identity in its key and decodes it back', () => {
    const b = {
      vhost: 'v', source: 'src', destinationKind: 'exchange' as const, destination: 'dst', routingKey: 'a.b.#',
      arguments: tableOf([['x-match', field.str('all')], ['n', field.int(-3)]]),
    };
    const decoded = decodeBindingKey(bindingKey(b));
    expect({ ...decoded, arguments: [...decoded.arguments] }).to.deep.equal({ ...b, arguments: [...b.arguments] });
    expect(bindingKey(b).equals(bindingKey({ ...b, destinationKind: 'queue' }))).to.equal(false);
    expect(bindingKey(b).equals(bindingKey({ ...b, routingKey: 'a.b' }))).to.equal(false);
    expect(bindingKey(b).equals(bindingKey({ ...b, arguments: tableOf([['x-match', field.str('any')]]) }))).to.equal(false);
  });

  it('rejects malformed keys with KeyFormatError', () => {
    const good = entityKey(KeyPrefix.Queue, '/', 'q');
    expect(() => decodeEntityKey(good.subarray(0, good.length - 1))).to.throw(KeyFormatError, /truncated/);
    expect(() => decodeEntityKey(Buffer.concat([good, Buffer.of(0)]))).to.throw(KeyFormatError, /trailing/);
    expect(() => decodeMessageKey(Buffer.of(KeyPrefix.Message, 1))).to.throw(KeyFormatError);
    expect(() => decodeEntryKey(messageKey(1))).to.throw(KeyFormatError);
    const tooBig = messageKey(0);
    tooBig.writeUInt32BE(0xffffffff, 1);
    expect(() => decodeMessageKey(tooBig)).to.throw(KeyFormatError, /2\^53/);
    const bk = bindingKey({ vhost: '/', source: 'x', destinationKind: 'queue', destination: 'q', routingKey: '', arguments: tableOf([]) });
    const badKind = Buffer.from(bk);
    badKind[1 + 2 + 2] = 7;
    expect(() => decodeBindingKey(badKind)).to.throw(KeyFormatError, /destination kind/);
    expect(() => decodeBindingKey(bk.subarray(0, bk.length - 2))).to.throw(KeyFormatError);
  });

  it('refuses names longer than a shortstr and ids beyond 2^53 (caller bugs, not input)', () => {
    expect(() => entityKey(KeyPrefix.Queue, '/', 'x'.repeat(256))).to.throw(RangeError);
    expect(() => messageKey(2 ** 53)).to.throw(RangeError);
    expect(() => entryKey(-1, 0)).to.throw(RangeError);
  });
});
