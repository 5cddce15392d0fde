import { expect } from 'chai';
import fc from 'fast-check';
import { AmqpError } from '../../../src/errors.js';
import {
  MAX_FIELD_DEPTH,
  fieldArraySize,
  fieldTableSize,
  fieldValueSize,
  fromPlain,
  readFieldArray,
  readFieldTable,
  toPlain,
  writeFieldArray,
  writeFieldTable,
} from '../../../src/protocol/field-table.js';
import type { FieldTable, FieldValue } from '../../../src/types/field-table.js';
import { arrayBytes, tableBytes, type TableEntry, valueBytes } from '../../support/frame-builder.js';

function encode(t: FieldTable): Buffer {
  const buf = Buffer.alloc(fieldTableSize(t));
  const end = writeFieldTable(buf, 0, t);
  expect(end).to.equal(buf.length);
  return buf;
}

function decode(bytes: Buffer): FieldTable {
  return readFieldTable(bytes, 0, bytes.length);
}

/** Asserts `fn` throws a FRAME_ERROR AmqpError (never a RangeError) and returns it. */
function expectFrameError(fn: () => unknown): AmqpError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an error').to.be.instanceOf(AmqpError);
  expect((caught as AmqpError).replyCode).to.equal(501);
  return caught as AmqpError;
}

const S = (s: string): FieldValue => ({ type: 'S', value: Buffer.from(s) });

/** One entry of every type, as Warren values and as the independent builder's layout. */
const everyType: Array<[string, FieldValue, TableEntry[1]]> = [
  ['bool-t', { type: 't', value: true }, ['t', true]],
  ['bool-f', { type: 't', value: false }, ['t', false]],
  ['int8', { type: 'b', value: -128 }, ['b', -128]],
  ['uint8', { type: 'B', value: 255 }, ['B', 255]],
  ['int16', { type: 's', value: -32768 }, ['s', -32768]],
  ['uint16', { type: 'u', value: 65535 }, ['u', 65535]],
  ['int32', { type: 'I', value: -2147483648 }, ['I', -2147483648]],
  ['uint32', { type: 'i', value: 4294967295 }, ['i', 4294967295]],
  ['int64', { type: 'l', value: -9223372036854775808n }, ['l', -9223372036854775808n]],
  ['float', { type: 'f', value: 1.5 }, ['f', 1.5]],
  ['double', { type: 'd', value: -0.1 }, ['d', -0.1]],
  ['decimal', { type: 'D', value: { scale: 2, value: 4294967295 } }, ['D', 2, 4294967295]],
  ['longstr', S('héllo'), ['S', 'héllo']],
  ['empty-str', S(''), ['S', '']],
  ['timestamp', { type: 'T', value: 18446744073709551615n }, ['T', 18446744073709551615n]],
  ['bytes', { type: 'x', value: Buffer.from([0, 1, 0xff]) }, ['x', Buffer.from([0, 1, 0xff])]],
  ['void', { type: 'V', value: null }, ['V']],
  [
    'array',
    { type: 'A', value: [{ type: 'I', value: 1 }, S('two'), { type: 'V', value: null }, { type: 'A', value: [] }] },
    ['A', [['I', 1], ['S', 'two'], ['V'], ['A', []]]],
  ],
  [
    'table',
    { type: 'F', value: new Map<string, FieldValue>([['inner', { type: 't', value: true }], ['n', { type: 'u', value: 7 }]]) },
    ['F', [['inner', ['t', true]], ['n', ['u', 7]]]],
  ],
  ['empty-table', { type: 'F', value: new Map() }, ['F', []]],
];

describe('field table codec', () => {
  const table: FieldTable = new Map(everyType.map(([k, v]) => [k, v]));
  const golden = tableBytes(everyType.map(([k, , b]) => [k, b] as TableEntry));

  it('encodes every RabbitMQ type exactly as the independent builder lays it out', () => {
    expect(encode(table).equals(golden)).to.equal(true);
    expect(fieldTableSize(table)).to.equal(golden.length);
  });

  it('decodes every type back to the same typed values, in wire order', () => {
    const decoded = decode(golden);
    expect([...decoded.keys()]).to.deep.equal(everyType.map(([k]) => k));
    expect(decoded).to.deep.equal(table);
  });

  it('re-encodes a decoded table byte-identically', () => {
    expect(encode(decode(golden)).equals(golden)).to.equal(true);
  });

  it('sizes single values including the type octet', () => {
    for (const [, v, b] of everyType) expect(fieldValueSize(v), v.type).to.equal(valueBytes(b).length);
  });

  it('reads a table at an offset inside a larger buffer, bounded by end', () => {
    const bytes = Buffer.concat([Buffer.from([9, 9, 9]), golden, Buffer.from([7, 7])]);
    const t = readFieldTable(bytes, 3, 3 + golden.length);
    expect(t).to.deep.equal(table);
    // The same table with `end` one byte short: its length now runs past the end.
    const err = expectFrameError(() => readFieldTable(bytes, 3, 3 + golden.length - 1));
    expect(err.explanation).to.match(/runs past the end/);
  });

  it('writes at an offset and returns the new offset', () => {
    const buf = Buffer.alloc(golden.length + 10, 0xaa);
    expect(writeFieldTable(buf, 5, table)).to.equal(5 + golden.length);
    expect(buf.subarray(5, 5 + golden.length).equals(golden)).to.equal(true);
    expect(buf[4]).to.equal(0xaa);
    expect(buf[5 + golden.length]).to.equal(0xaa);
  });

  it('encodes and decodes the empty table as four zero bytes', () => {
    expect(encode(new Map())).to.deep.equal(Buffer.alloc(4));
    expect(decode(Buffer.alloc(4)).size).to.equal(0);
  });

  it('round-trips arrays on their own', () => {
    const values: FieldValue[] = [{ type: 'b', value: -1 }, S('x'), { type: 'F', value: new Map([['k', S('v')]]) }];
    const bytes = arrayBytes([['b', -1], ['S', 'x'], ['F', [['k', ['S', 'v']]]]]);
    const buf = Buffer.alloc(fieldArraySize(values));
    expect(writeFieldArray(buf, 0, values)).to.equal(bytes.length);
    expect(buf.equals(bytes)).to.equal(true);
    expect(readFieldArray(bytes, 0, bytes.length)).to.deep.equal(values);
  });

  it('reads the unsigned decimal value RabbitMQ sends (scale octet + uint32)', () => {
    const t = decode(tableBytes([['d', ['D', 255, 0xffffffff]]]));
    expect(t.get('d')).to.deep.equal({ type: 'D', value: { scale: 255, value: 4294967295 } });
  });

  it("accepts 'L' as a signed 64-bit long, as RabbitMQ does, and re-emits it as 'l'", () => {
    const t = decode(tableBytes([['n', ['L', -5n]]]));
    expect(t.get('n')).to.deep.equal({ type: 'l', value: -5n });
    expect(encode(t).equals(tableBytes([['n', ['l', -5n]]]))).to.equal(true);
  });

  it('treats any non-zero boolean octet as true', () => {
    const t = decode(tableBytes([['b', ['raw', Buffer.from([0x74, 0x02])]]]));
    expect(t.get('b')).to.deep.equal({ type: 't', value: true });
  });

  it('keeps the first value of a duplicated key', () => {
    const t = decode(tableBytes([['k', ['I', 1]], ['k', ['I', 2]], ['z', ['V']]]));
    expect([...t.entries()]).to.deep.equal([['k', { type: 'I', value: 1 }], ['z', { type: 'V', value: null }]]);
  });

  it('copies long strings and byte arrays out of the source buffer', () => {
    const bytes = tableBytes([['s', ['S', 'abc']], ['x', ['x', Buffer.from('def')]]]);
    const t = decode(bytes);
    bytes.fill(0);
    expect(t.get('s')).to.deep.equal(S('abc'));
    expect((t.get('x')!.value as Buffer).toString()).to.equal('def');
  });

  describe('__proto__ and other hostile keys', () => {
    it('keeps __proto__ as an ordinary key without touching any prototype', () => {
      const bytes = tableBytes([
        ['__proto__', ['F', [['polluted', ['t', true]]]]],
        ['constructor', ['S', 'x']],
        ['hasOwnProperty', ['I', 1]],
      ]);
      const t = decode(bytes);
      expect(t.get('__proto__')?.type).to.equal('F');
      expect(t.size).to.equal(3);
      expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
      expect(encode(t).equals(bytes)).to.equal(true);
      const plain = toPlain(t);
      expect(Object.getPrototypeOf(plain)).to.equal(Object.prototype);
      expect(Object.keys(plain)).to.deep.equal(['__proto__', 'constructor', 'hasOwnProperty']);
      expect(Object.getOwnPropertyDescriptor(plain, '__proto__')?.value).to.deep.equal({ polluted: true });
    });

    it('encodes a __proto__ key from a Map', () => {
      const t: FieldTable = new Map([['__proto__', S('v')]]);
      expect(encode(t).equals(tableBytes([['__proto__', ['S', 'v']]]))).to.equal(true);
    });
  });

  describe('nesting depth', () => {
    function nestedTables(levels: number): Buffer {
      let entries: TableEntry[] = [['leaf', ['V']]];
      for (let i = 1; i < levels; i++) entries = [['t', ['F', entries]]];
      return tableBytes(entries);
    }
    function nestedArrays(levels: number): Buffer {
      let v: TableTuple = ['V'];
      for (let i = 1; i < levels; i++) v = ['A', [v]];
      return tableBytes([['a', v]]);
    }
    type TableTuple = TableEntry[1];

    it(`accepts ${MAX_FIELD_DEPTH} levels of tables and of arrays`, () => {
      const t = decode(nestedTables(MAX_FIELD_DEPTH));
      expect(encode(t).equals(nestedTables(MAX_FIELD_DEPTH))).to.equal(true);
      expect(decode(nestedArrays(MAX_FIELD_DEPTH)).get('a')?.type).to.equal('A');
    });

    it(`rejects ${MAX_FIELD_DEPTH + 1} levels with a frame error`, () => {
      const e1 = expectFrameError(() => decode(nestedTables(MAX_FIELD_DEPTH + 1)));
      expect(e1.explanation).to.match(/nesting deeper than 64/);
      expectFrameError(() => decode(nestedArrays(MAX_FIELD_DEPTH + 1)));
    });

    it('survives absurd depth (100 000 levels) without a stack overflow', () => {
      // Built by hand, front to back: level i is [len]['t' 'F' <level i+1>]; the innermost is {leaf: V}.
      const levels = 100_000;
      const leaf = tableBytes([['leaf', ['V']]]);
      const buf = Buffer.alloc(levels * 7 + leaf.length);
      for (let i = 0; i < levels; i++) {
        const off = i * 7;
        buf.writeUInt32BE(buf.length - off - 4, off);
        buf[off + 4] = 1;
        buf[off + 5] = 0x74; // key 't'
        buf[off + 6] = 0x46; // 'F'
      }
      leaf.copy(buf, levels * 7);
      expectFrameError(() => decode(buf));
    });

    it('refuses to encode a table nested deeper than it would accept', () => {
      let t: FieldTable = new Map();
      for (let i = 0; i < MAX_FIELD_DEPTH; i++) t = new Map([['t', { type: 'F', value: t }]]);
      expectFrameError(() => fieldTableSize(t));
    });
  });

  describe('malformed input → FRAME_ERROR (501), never a RangeError', () => {
    it('names an unknown type letter and its key', () => {
      const err = expectFrameError(() => decode(tableBytes([['k', ['raw', Buffer.from('Z')]]])));
      expect(err.explanation).to.equal("field table: unknown field type 'Z' for key 'k'");
      expect(err.message).to.equal("FRAME_ERROR - field table: unknown field type 'Z' for key 'k'");
    });

    it('names an unknown type in an array by index, and unprintable types in hex', () => {
      const bytes = tableBytes([['a', ['A', [['I', 1], ['raw', Buffer.from([0x01])]]]]]);
      const err = expectFrameError(() => decode(bytes));
      expect(err.explanation).to.equal('field array: unknown field type 0x01 at index 1');
    });

    it("rejects the spec's letters that RabbitMQ does not use ('U')", () => {
      expectFrameError(() => decode(tableBytes([['k', ['raw', Buffer.from([0x55, 0, 1])]]])));
    });

    it('rejects a table length past the end of the buffer', () => {
      const bytes = tableBytes([['k', ['S', 'v']]]);
      expectFrameError(() => decode(bytes.subarray(0, bytes.length - 1)));
      expectFrameError(() => decode(Buffer.from([0, 0])));
      const huge = Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 0x6b, 0x56]);
      expect(expectFrameError(() => decode(huge)).explanation).to.match(/length 4294967295 runs past/);
    });

    it('rejects a nested length past the end of its parent, even if the buffer goes on', () => {
      // Outer table length covers only the inner table's first bytes; the inner length claims more.
      const inner = tableBytes([['a', ['S', 'abcdef']]]);
      const content = Buffer.concat([Buffer.from([1, 0x6b, 0x46]), inner]);
      const outer = Buffer.concat([Buffer.from([0, 0, 0, content.length - 3]), content]);
      const err = expectFrameError(() => decode(outer));
      expect(err.explanation).to.match(/length \d+ of type 'F' for key 'k' runs past the end/);
    });

    const sample = tableBytes(everyType.map(([k, , b]) => [k, b] as TableEntry));

    it('rejects every truncation of a valid table (length prefix kept)', () => {
      for (let cut = 0; cut < sample.length; cut++) expectFrameError(() => decode(sample.subarray(0, cut)));
    });

    it('rejects or cleanly decodes every truncation with a consistent length prefix', () => {
      for (let cut = 4; cut < sample.length; cut++) {
        const bytes = Buffer.from(sample.subarray(0, cut));
        bytes.writeUInt32BE(cut - 4, 0);
        try {
          const t = decode(bytes);
          // Only a cut on an entry boundary decodes, to a prefix of the entries.
          expect([...t.keys()]).to.deep.equal(everyType.slice(0, t.size).map(([k]) => k));
        } catch (e) {
          expect(e, `cut at ${cut}`).to.be.instanceOf(AmqpError);
          expect((e as AmqpError).replyCode).to.equal(501);
        }
      }
    });

    it('throws only AmqpError 501 on random bytes (fuzz)', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), (arr) => {
          const bytes = Buffer.from(arr);
          for (const buf of [bytes, Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes])]) {
            try {
              decode(buf);
            } catch (e) {
              if (!(e instanceof AmqpError) || e.replyCode !== 501) throw e;
            }
          }
        }),
        { numRuns: 2000 },
      );
    });

    it('throws only AmqpError 501 on mutations of a valid table (fuzz)', () => {
      fc.assert(
        fc.property(fc.nat(sample.length - 1), fc.integer({ min: 0, max: 255 }), (at, byte) => {
          const bytes = Buffer.from(sample);
          bytes[at] = byte;
          try {
            decode(bytes);
          } catch (e) {
            if (!(e instanceof AmqpError) || e.replyCode !== 501) throw e;
          }
        }),
        { numRuns: 3000 },
      );
    });
  });

  it('round-trips arbitrary tables byte-identically (property)', () => {
    const scalar: fc.Arbitrary<FieldValue> = fc.oneof(
      fc.boolean().map((value) => ({ type: 't' as const, value })),
      fc.integer({ min: -128, max: 127 }).map((value) => ({ type: 'b' as const, value })),
      fc.integer({ min: 0, max: 255 }).map((value) => ({ type: 'B' as const, value })),
      fc.integer({ min: -32768, max: 32767 }).map((value) => ({ type: 's' as const, value })),
      fc.integer({ min: 0, max: 65535 }).map((value) => ({ type: 'u' as const, value })),
      fc.integer().map((value) => ({ type: 'I' as const, value })),
      fc.integer({ min: 0, max: 0xffffffff }).map((value) => ({ type: 'i' as const, value })),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value) => ({ type: 'l' as const, value })),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((value) => ({ type: 'T' as const, value })),
      fc.float({ noNaN: true }).map((value) => ({ type: 'f' as const, value })),
      fc.double({ noNaN: true }).map((value) => ({ type: 'd' as const, value })),
      fc.record({ scale: fc.integer({ min: 0, max: 255 }), value: fc.integer({ min: 0, max: 0xffffffff }) })
        .map((value) => ({ type: 'D' as const, value })),
      fc.string().map((s) => ({ type: 'S' as const, value: Buffer.from(s) })),
      fc.uint8Array({ maxLength: 20 }).map((a) => ({ type: 'x' as const, value: Buffer.from(a) })),
      fc.constant({ type: 'V' as const, value: null }),
    );
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        scalar,
        fc.array(tie('value') as fc.Arbitrary<FieldValue>, { maxLength: 4 })
          .map((a) => ({ type: 'A' as const, value: a })),
        fc.array(fc.tuple(fc.string({ maxLength: 10 }), tie('value') as fc.Arbitrary<FieldValue>), { maxLength: 4 })
          .map((entries) => ({ type: 'F' as const, value: new Map(entries) })),
      ),
    }));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ maxLength: 20 }), value), { maxLength: 8 }), (entries) => {
        const t: FieldTable = new Map(entries as Array<[string, FieldValue]>);
        const bytes = encode(t);
        const back = decode(bytes);
        expect(encode(back).equals(bytes)).to.equal(true);
        expect(back).to.deep.equal(t);
      }),
      { numRuns: 500 },
    );
  });

  describe('fromPlain / toPlain', () => {
    it('maps plain values onto RabbitMQ types', () => {
      const t = fromPlain({
        s: 'str', small: 42, neg: -2147483648, big: 2147483648, frac: 0.5, yes: true, nothing: null,
        when: new Date(1_700_000_000_500), bytes: Buffer.from([1]), long: 5n, list: [1, 'a'],
        nested: { k: 'v' }, skipped: undefined,
      });
      expect([...t.keys()]).to.deep.equal(
        ['s', 'small', 'neg', 'big', 'frac', 'yes', 'nothing', 'when', 'bytes', 'long', 'list', 'nested']);
      expect(t.get('s')).to.deep.equal(S('str'));
      expect(t.get('small')).to.deep.equal({ type: 'I', value: 42 });
      expect(t.get('neg')).to.deep.equal({ type: 'I', value: -2147483648 });
      expect(t.get('big')).to.deep.equal({ type: 'l', value: 2147483648n });
      expect(t.get('frac')).to.deep.equal({ type: 'd', value: 0.5 });
      expect(t.get('yes')).to.deep.equal({ type: 't', value: true });
      expect(t.get('nothing')).to.deep.equal({ type: 'V', value: null });
      expect(t.get('when')).to.deep.equal({ type: 'T', value: 1_700_000_000n });
      expect(t.get('bytes')).to.deep.equal({ type: 'x', value: Buffer.from([1]) });
      expect(t.get('long')).to.deep.equal({ type: 'l', value: 5n });
      expect(t.get('list')).to.deep.equal({ type: 'A', value: [{ type: 'I', value: 1 }, S('a')] });
      expect(t.get('nested')).to.deep.equal({ type: 'F', value: new Map([['k', S('v')]]) });
    });

    it('converts back to plain values', () => {
      const plain = toPlain(decode(golden));
      expect(plain['longstr']).to.equal('héllo');
      expect(plain['int64']).to.equal(-9223372036854775808n);
      expect(plain['array']).to.deep.equal([1, 'two', null, []]);
      expect(plain['table']).to.deep.equal({ inner: true, n: 7 });
      expect(plain['decimal']).to.deep.equal({ scale: 2, value: 4294967295 });
      expect(plain['bytes']).to.deep.equal(Buffer.from([0, 1, 0xff]));
    });
  });
});
