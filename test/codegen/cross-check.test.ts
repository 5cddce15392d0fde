/**
 * Cross-checks Warren's generated codec against amqplib's own (lib/defs.js, generated from RabbitMQ's
 * spec): for EVERY method of the spec and for the basic content properties, random argument values
 * are encoded by one side and decoded by the other, in both directions, and the two encodings must
 * be byte-identical.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SPEC_PATH } from '../../codegen/generate.js';
import { loadModel, type FieldModel, type MethodModel, type WireType } from '../../codegen/model.js';
import { camel } from '../../codegen/naming.js';
import { decodeMethod, encodeMethodFrame, methodFrameSize, type Method } from '../../src/protocol/generated/methods.js';
import {
  basicPropertiesSize, decodeBasicProperties, encodeBasicPropertiesBuffer, type BasicProperties,
} from '../../src/protocol/generated/properties.js';
import { tableEquals, type FieldTable, type FieldValue } from '../../src/types/field-table.js';

interface AmqplibArg { readonly name: string; readonly type: string }
interface AmqplibDefs {
  decode(id: number, buf: Buffer): Record<string, unknown>;
  encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
  encodeProperties(id: number, channel: number, size: number, fields: Record<string, unknown>): Buffer;
  readonly [key: string]: unknown;
}
/** amqplib's package exports hide lib/; reach defs.js beside its main entry point instead. */
const requireCjs = createRequire(import.meta.url);
const defs = requireCjs(join(dirname(requireCjs.resolve('amqplib')), 'lib', 'defs.js')) as AmqplibDefs;

/**
 * Warren field name → amqplib field name, only where they differ. Both are camelCase of RabbitMQ's
 * framing names (reserved fields keep their 0-8 names: ticket, outOfBand, channelId, capabilities,
 * insist, knownHosts, clusterId; no-wait is `nowait`), so nothing needs mapping today.
 */
const AMQPLIB_NAME: { readonly [warren: string]: string } = {};
const amqplibName = (f: FieldModel): string => AMQPLIB_NAME[camel(f.name)] ?? camel(f.name);

const model = loadModel(SPEC_PATH);
const RUNS = 60;

// ------------------------------------------------------------------------------------------------
// Arbitraries

/** Cut a string to at most `max` UTF-8 bytes on a code point boundary. */
function clipUtf8(s: string, max: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    bytes += Buffer.byteLength(ch);
    if (bytes > max) break;
    out += ch;
  }
  return out;
}

/** Strings up to 255 bytes: any code point (incl. 4-byte UTF-8), ASCII, and some at exactly 255 bytes. */
const shortstr = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 100 }).map((s) => clipUtf8(s, 255)),
  fc.string({ unit: 'grapheme-ascii', maxLength: 255 }),
  fc.constantFrom('', 'é'.repeat(127) + 'a', '€'.repeat(85), '😀'.repeat(63) + 'abc', 'x'.repeat(255)),
);

const uint = (max: number) => fc.oneof(fc.constantFrom(0, max), fc.integer({ min: 0, max }));
const int = (bits: number) => {
  const max = 2 ** (bits - 1) - 1;
  return fc.oneof(fc.constantFrom(-max - 1, max), fc.integer({ min: -max - 1, max }));
};
const longlong = fc.oneof(fc.constantFrom(0, Number.MAX_SAFE_INTEGER, 2 ** 32, 2 ** 32 - 1), fc.maxSafeNat());
const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));

/** Keys amqplib can round-trip as object keys in insertion order (no index-like keys, no '!' marker). */
const tableKey = fc
  .string({ unit: 'binary', maxLength: 12 })
  .map((s) => clipUtf8(s, 255))
  .filter((k) => k !== '__proto__' && k !== '!' && !/^(0|[1-9]\d*)$/.test(k));

/** Field values of every type both codecs support (RabbitMQ's type letters). */
const scalar: fc.Arbitrary<FieldValue> = fc.oneof(
  fc.boolean().map((value): FieldValue => ({ type: 't', value })),
  int(8).map((value): FieldValue => ({ type: 'b', value })),
  uint(255).map((value): FieldValue => ({ type: 'B', value })),
  int(16).map((value): FieldValue => ({ type: 's', value })),
  uint(0xffff).map((value): FieldValue => ({ type: 'u', value })),
  int(32).map((value): FieldValue => ({ type: 'I', value })),
  uint(0xffffffff).map((value): FieldValue => ({ type: 'i', value })),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value): FieldValue => ({ type: 'l', value })),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((value): FieldValue => ({ type: 'T', value })),
  fc.float({ noNaN: true }).map((value): FieldValue => ({ type: 'f', value })),
  fc.double({ noNaN: true }).map((value): FieldValue => ({ type: 'd', value })),
  fc.record({ scale: uint(255), value: uint(0xffffffff) }).map((value): FieldValue => ({ type: 'D', value })),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s): FieldValue => ({ type: 'S', value: Buffer.from(s, 'utf8') })),
  bytes.map((value): FieldValue => ({ type: 'x', value })),
  fc.constant<FieldValue>({ type: 'V', value: null }),
);

const tableOf = (value: fc.Arbitrary<FieldValue>): fc.Arbitrary<FieldTable> =>
  fc.uniqueArray(fc.tuple(tableKey, value), { maxLength: 4, selector: ([k]) => k }).map((entries) => new Map(entries));

/** Tables nested two deep, with arrays. */
const table: fc.Arbitrary<FieldTable> = tableOf(fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: tableOf(scalar).map((value): FieldValue => ({ type: 'F', value })) },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }).map((value): FieldValue => ({ type: 'A', value })) },
));

const ARBITRARY: { readonly [T in WireType]: fc.Arbitrary<unknown> } = {
  bit: fc.boolean(),
  octet: uint(255),
  short: uint(0xffff),
  long: uint(0xffffffff),
  longlong,
  timestamp: longlong,
  shortstr,
  longstr: bytes,
  table,
};

function argsArbitrary(fields: readonly FieldModel[], optional = false): fc.Arbitrary<Record<string, unknown>> {
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of fields) record[camel(f.name)] = ARBITRARY[f.type];
  return optional ? fc.record(record, { requiredKeys: [] }) : fc.record(record);
}

// ------------------------------------------------------------------------------------------------
// Warren's typed values ↔ amqplib's representation

/** A typed field value as amqplib's encoder takes it: the `{'!': type}` form pins the exact wire type. */
function amqplibInput(v: FieldValue): unknown {
  switch (v.type) {
    case 't': return v.value;
    case 'b': return { '!': 'int8', value: v.value };
    case 'B': return { '!': 'uint8', value: v.value };
    case 's': return { '!': 'int16', value: v.value };
    case 'u': return { '!': 'uint16', value: v.value };
    case 'I': return { '!': 'int32', value: v.value };
    case 'i': return { '!': 'uint32', value: v.value };
    case 'l': return { '!': 'int64', value: v.value };
    case 'T': return { '!': 'timestamp', value: v.value };
    case 'f': return { '!': 'float', value: v.value };
    case 'd': return { '!': 'double', value: v.value };
    case 'D': return { '!': 'decimal', value: { places: v.value.scale, digits: v.value.value } };
    case 'S': return v.value.toString('utf8');
    case 'x': return v.value;
    case 'V': return null;
    case 'A': return v.value.map(amqplibInput);
    case 'F': return amqplibTable(v.value, amqplibInput);
  }
}

/** A typed field value as amqplib's decoder returns it (numbers untagged, 64-bit as lossy numbers). */
function amqplibOutput(v: FieldValue): unknown {
  switch (v.type) {
    case 'b': case 'B': case 's': case 'u': case 'I': case 'i': case 'f': case 'd': return v.value;
    case 'l': return Number(v.value);
    case 'T': return { '!': 'timestamp', value: Number(v.value) };
    case 'A': return v.value.map(amqplibOutput);
    case 'F': return amqplibTable(v.value, amqplibOutput);
    default: return amqplibInput(v);
  }
}

function amqplibTable(t: FieldTable, convert: (v: FieldValue) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of t) out[k] = convert(v);
  return out;
}

function toAmqplib(fields: readonly FieldModel[], args: Record<string, unknown>, convert: (v: FieldValue) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = args[camel(f.name)];
    if (v === undefined) continue;
    out[amqplibName(f)] = f.type === 'table' ? amqplibTable(v as FieldTable, convert) : v;
  }
  return out;
}

/** Field-by-field equality of Warren values: tables by type-preserving equality, bytes by content. */
function expectSameValues(fields: readonly FieldModel[], actual: Record<string, unknown>, expected: Record<string, unknown>, where: string): void {
  for (const f of fields) {
    const key = camel(f.name);
    const a = actual[key];
    const e = expected[key];
    if (e === undefined) {
      expect(a, `${where} ${key}`).to.equal(undefined);
    } else if (f.type === 'table') {
      expect(tableEquals(a as FieldTable, e as FieldTable), `${where} ${key}`).to.equal(true);
    } else if (f.type === 'longstr') {
      expect(Buffer.isBuffer(a) && a.equals(e as Buffer), `${where} ${key}`).to.equal(true);
    } else {
      expect(a, `${where} ${key}`).to.equal(e);
    }
  }
}

/** amqplib's decoded objects list absent properties as undefined; compare only what is present. */
function withoutUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

// ------------------------------------------------------------------------------------------------

describe('codec cross-check against amqplib', () => {
  const amqplibIds = Object.keys(defs)
    .filter((k) => k.startsWith('methodInfo'))
    .map((k) => (defs[k] as { id: number }).id);

  it('the spec has exactly the methods amqplib knows, with the same field names and wire types', () => {
    expect(model.methods.map((m) => m.id)).to.have.members(amqplibIds);
    expect(amqplibIds).to.have.length(model.methods.length);
    for (const m of model.methods) {
      const info = defs['info'] as (id: number) => { args: readonly AmqplibArg[] };
      const args = info(m.id).args.map((a) => `${a.name}:${a.type}`);
      expect(args, `${m.className}.${m.name}`).to.deep.equal(m.fields.map((f) => `${amqplibName(f)}:${f.type}`));
    }
    const basic = model.classes.find((c) => c.name === 'basic')!;
    const props = (defs['propertiesInfoBasicProperties'] as { args: readonly AmqplibArg[] }).args;
    expect(props.map((a) => `${a.name}:${a.type}`)).to.deep.equal(basic.properties.map((f) => `${amqplibName(f)}:${f.type}`));
  });

  for (const m of model.methods) crossCheckMethod(m);

  describe('basic properties', () => {
    const basic = model.classes.find((c) => c.name === 'basic')!;
    const arb = argsArbitrary(basic.properties, true);

    it('Warren encodes, amqplib decodes; amqplib encodes, Warren decodes; same bytes', () => {
      fc.assert(
        fc.property(arb, uint(0xffff), longlong, (props, channel, bodySize) => {
          const ours = encodeBasicPropertiesBuffer(props as BasicProperties);
          expect(ours.length).to.equal(basicPropertiesSize(props as BasicProperties));

          const decodedByAmqplib = defs.decode(60, ours);
          expect(withoutUndefined(decodedByAmqplib)).to.deep.equal(toAmqplib(basic.properties, props, amqplibOutput));

          // amqplib writes a whole content-header frame: 7 header, class 2, weight 2, body size 8, then flags.
          const frame = defs.encodeProperties(60, channel, bodySize, toAmqplib(basic.properties, props, amqplibInput));
          const theirs = frame.subarray(19, frame.length - 1);
          expect(theirs.equals(ours), 'same property bytes').to.equal(true);
          const decoded = decodeBasicProperties(frame, 19, frame.length - 1) as Record<string, unknown>;
          expect(Object.keys(decoded), 'every property, in flag order').to.deep.equal(basic.properties.map((f) => camel(f.name)));
          expectSameValues(basic.properties, decoded, props, 'basic properties');
        }),
        { numRuns: RUNS * 3 },
      );
    });
  });
});

function crossCheckMethod(m: MethodModel): void {
  const name = `${m.className}.${m.name}`;
  it(`${name} (${m.classId}/${m.index}) both ways, byte-identical`, () => {
    fc.assert(
      fc.property(argsArbitrary(m.fields), uint(0xffff), (args, channel) => {
        const method = { id: m.id, ...args } as Method;

        // Warren → amqplib
        const ours = encodeMethodFrame(channel, method);
        expect(ours.length, 'methodFrameSize').to.equal(methodFrameSize(method));
        const decodedByAmqplib = defs.decode(m.id, ours.subarray(11, ours.length - 1));
        expect(decodedByAmqplib, 'amqplib decoding Warren').to.deep.equal(toAmqplib(m.fields, args, amqplibOutput));

        // amqplib → Warren
        const theirs = defs.encodeMethod(m.id, channel, toAmqplib(m.fields, args, amqplibInput));
        expect(ours.equals(theirs), 'identical frames').to.equal(true);
        const decoded = decodeMethod(theirs, 7, theirs.length - 1);
        expect(decoded, 'Warren decoding amqplib').to.not.equal(undefined);
        const fields = decoded as unknown as Record<string, unknown>;
        expect(Object.keys(fields), 'id, then every field in declared order').to.deep.equal(['id', ...m.fields.map((f) => camel(f.name))]);
        expect(fields['id']).to.equal(m.id);
        expectSameValues(m.fields, fields, args, name);
      }),
      { numRuns: m.fields.length === 0 ? 5 : RUNS },
    );
  });
}
