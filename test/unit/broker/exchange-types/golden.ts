/**
 * Golden routing cases, as RabbitMQ 3.10.8 routes them. The unit tests check Warren's routers against
 * these tables; test/integration/differential-routing.test.ts replays the same tables against a real
 * RabbitMQ (when RABBITMQ_URL is set), so every row here has been confirmed by the reference broker.
 */
import type { FieldTable, FieldValue } from '../../../../src/types/field-table.js';

// ------------------------------------------------------------------ typed field values, tersely

export const S = (s: string): FieldValue => ({ type: 'S', value: Buffer.from(s, 'utf8') });
export const X = (s: string): FieldValue => ({ type: 'x', value: Buffer.from(s, 'utf8') });
export const b = (n: number): FieldValue => ({ type: 'b', value: n });
export const B = (n: number): FieldValue => ({ type: 'B', value: n });
export const s16 = (n: number): FieldValue => ({ type: 's', value: n });
export const u16 = (n: number): FieldValue => ({ type: 'u', value: n });
export const I = (n: number): FieldValue => ({ type: 'I', value: n });
export const i32 = (n: number): FieldValue => ({ type: 'i', value: n });
export const l = (n: number | bigint): FieldValue => ({ type: 'l', value: BigInt(n) });
export const T = (n: number | bigint): FieldValue => ({ type: 'T', value: BigInt(n) });
/** A 32-bit float as the codec decodes it (rounded to single precision). */
export const f = (n: number): FieldValue => ({ type: 'f', value: Math.fround(n) });
export const d = (n: number): FieldValue => ({ type: 'd', value: n });
export const D = (scale: number, value: number): FieldValue => ({ type: 'D', value: { scale, value } });
export const t = (v: boolean): FieldValue => ({ type: 't', value: v });
export const V: FieldValue = { type: 'V', value: null };
export const A = (...vs: FieldValue[]): FieldValue => ({ type: 'A', value: vs });
export const F = (o: Record<string, FieldValue>): FieldValue => ({ type: 'F', value: tbl(o) });
export const tbl = (o: Record<string, FieldValue>): FieldTable => new Map(Object.entries(o));

// ------------------------------------------------------------------ topic

/** Binding keys bound together on one topic exchange. */
export const TOPIC_GOLDEN_PATTERNS: readonly string[] = [
  '', '#', '*', '#.#', '*.#', '#.*', '*.*', '#.#.#', '*.*.*', 'a', 'a.b', 'a.*', 'a.#', '#.a', '*.a', 'a.#.b',
  'a.*.#', 'a.#.*', '#.b.#', 'a.*.b', 'a.#.#.b', '.', '..', 'a.', '.a', 'a..b', '*.', '.*', '#.', '.#', 'a.#.',
  'a*', '#a', '**',
];

/**
 * For each routing key, the binding keys of TOPIC_GOLDEN_PATTERNS that match it (RabbitMQ's output,
 * in pattern order). Notes: "" has no words, so only "" and all-`#` patterns match it; "." is two empty
 * words; `*` never matches "" but matches an empty word; `a*`, `#a`, `**` are literal words; a `#` or
 * `*` in the routing key is just a word.
 */
export const TOPIC_GOLDEN: readonly (readonly [string, readonly string[]])[] = [
  ['', ['', '#', '#.#', '#.#.#']],
  ['.', ['#', '#.#', '*.#', '#.*', '*.*', '#.#.#', '.', '*.', '.*', '#.', '.#']],
  ['..', ['#', '#.#', '*.#', '#.*', '#.#.#', '*.*.*', '..', '#.', '.#']],
  ['a', ['#', '*', '#.#', '*.#', '#.*', '#.#.#', 'a', 'a.#', '#.a']],
  ['a.', ['#', '#.#', '*.#', '#.*', '*.*', '#.#.#', 'a.*', 'a.#', 'a.*.#', 'a.#.*', 'a.', '*.', '#.', 'a.#.']],
  ['.a', ['#', '#.#', '*.#', '#.*', '*.*', '#.#.#', '#.a', '*.a', '.a', '.*', '.#']],
  ['a..', ['#', '#.#', '*.#', '#.*', '#.#.#', '*.*.*', 'a.#', 'a.*.#', 'a.#.*', '#.', 'a.#.']],
  ['a.b', ['#', '#.#', '*.#', '#.*', '*.*', '#.#.#', 'a.b', 'a.*', 'a.#', 'a.#.b', 'a.*.#', 'a.#.*', '#.b.#', 'a.#.#.b']],
  ['a..b', ['#', '#.#', '*.#', '#.*', '#.#.#', '*.*.*', 'a.#', 'a.#.b', 'a.*.#', 'a.#.*', '#.b.#', 'a.*.b', 'a.#.#.b', 'a..b']],
  ['a.b.', ['#', '#.#', '*.#', '#.*', '#.#.#', '*.*.*', 'a.#', 'a.*.#', 'a.#.*', '#.b.#', '#.', 'a.#.']],
  ['a.x.b', ['#', '#.#', '*.#', '#.*', '#.#.#', '*.*.*', 'a.#', 'a.#.b', 'a.*.#', 'a.#.*', '#.b.#', 'a.*.b', 'a.#.#.b']],
  ['a.x.y.b', ['#', '#.#', '*.#', '#.*', '#.#.#', 'a.#', 'a.#.b', 'a.*.#', 'a.#.*', '#.b.#', 'a.#.#.b']],
  ['a.b.b', ['#', '#.#', '*.#', '#.*', '#.#.#', '*.*.*', 'a.#', 'a.#.b', 'a.*.#', 'a.#.*', '#.b.#', 'a.*.b', 'a.#.#.b']],
  ['b', ['#', '*', '#.#', '*.#', '#.*', '#.#.#', '#.b.#']],
  ['x.a', ['#', '#.#', '*.#', '#.*', '*.*', '#.#.#', '#.a', '*.a']],
  ['a.b.c', ['#', '#.#', '*.#', '#.*', '#.#.#', '*.*.*', 'a.#', 'a.*.#', 'a.#.*', '#.b.#']],
  ['a*', ['#', '*', '#.#', '*.#', '#.*', '#.#.#', 'a*']],
  ['*', ['#', '*', '#.#', '*.#', '#.*', '#.#.#']],
  ['#', ['#', '*', '#.#', '*.#', '#.*', '#.#.#']],
  ['a.#', ['#', '#.#', '*.#', '#.*', '*.*', '#.#.#', 'a.*', 'a.#', 'a.*.#', 'a.#.*']],
];

// ------------------------------------------------------------------ headers

export interface HeadersCase {
  readonly name: string;
  readonly binding: FieldTable;
  readonly headers: FieldTable | undefined;
  readonly match: boolean;
}

const h = (name: string, binding: FieldTable, headers: FieldTable | undefined, match: boolean): HeadersCase =>
  ({ name, binding, headers, match });

export const HEADERS_GOLDEN: readonly HeadersCase[] = [
  // x-match all / any
  h('empty binding matches a message without headers', tbl({}), undefined, true),
  h('empty binding matches empty headers', tbl({}), tbl({}), true),
  h('all with nothing to match matches everything', tbl({ 'x-match': S('all') }), undefined, true),
  h('any with nothing to match matches nothing', tbl({ 'x-match': S('any') }), tbl({ a: S('1') }), false),
  h('all-with-x with nothing to match matches everything', tbl({ 'x-match': S('all-with-x') }), tbl({}), true),
  h('any-with-x with nothing to match matches nothing', tbl({ 'x-match': S('any-with-x') }), tbl({ 'x-a': S('1') }), false),
  h('a key needs the header', tbl({ a: S('1') }), undefined, false),
  h('extra headers do not matter', tbl({ a: S('1') }), tbl({ a: S('1'), b: S('2') }), true),
  h('all needs every key', tbl({ a: S('1'), b: S('2') }), tbl({ a: S('1') }), false),
  h('all: a wrong value fails', tbl({ a: S('1'), b: S('2') }), tbl({ a: S('1'), b: S('3') }), false),
  h('binding argument order does not matter', tbl({ b: S('2'), a: S('1') }), tbl({ a: S('1'), b: S('2') }), true),
  h('any needs one key', tbl({ a: S('1'), b: S('2'), 'x-match': S('any') }), tbl({ a: S('1') }), true),
  h('any: values must match their own keys', tbl({ a: S('1'), b: S('2'), 'x-match': S('any') }), tbl({ a: S('2'), b: S('1') }), false),
  h('different value', tbl({ a: S('1') }), tbl({ a: S('2') }), false),
  h('keys are case-sensitive', tbl({ A: S('1') }), tbl({ a: S('1') }), false),
  h('the empty key is a key', tbl({ '': S('1') }), tbl({ '': S('1') }), true),
  // x- arguments
  h('all ignores x- arguments', tbl({ 'x-foo': S('bar') }), tbl({}), true),
  h('all ignores x- arguments next to others', tbl({ 'x-foo': S('bar'), a: S('1') }), tbl({ a: S('1') }), true),
  h('any ignores x- arguments (nothing left to match)', tbl({ 'x-foo': S('bar'), 'x-match': S('any') }), tbl({ 'x-foo': S('bar') }), false),
  h('any ignores x- arguments next to others', tbl({ 'x-foo': S('bar'), a: S('1'), 'x-match': S('any') }), tbl({ 'x-foo': S('bar') }), false),
  h('all-with-x matches x- arguments', tbl({ 'x-foo': S('bar'), 'x-match': S('all-with-x') }), tbl({ 'x-foo': S('bar') }), true),
  h('all-with-x needs x- headers', tbl({ 'x-foo': S('bar'), 'x-match': S('all-with-x') }), tbl({}), false),
  h('all-with-x needs every key', tbl({ 'x-foo': S('bar'), a: S('1'), 'x-match': S('all-with-x') }), tbl({ a: S('1') }), false),
  h('any-with-x matches an x- argument', tbl({ 'x-foo': S('bar'), 'x-match': S('any-with-x') }), tbl({ 'x-foo': S('bar') }), true),
  h('any-with-x matches a plain key', tbl({ 'x-foo': S('bar'), a: S('1'), 'x-match': S('any-with-x') }), tbl({ a: S('1') }), true),
  h('x-match itself is never matched, even with -with-x', tbl({ 'x-match': S('any-with-x'), a: S('1') }), tbl({ 'x-match': S('any-with-x') }), false),
  h('an x-match header does not change the mode', tbl({ a: S('1'), b: S('2') }), tbl({ 'x-match': S('any'), a: S('1') }), false),
  // typed values: Erlang ==, type letters ignored at the top level
  h("'I' 5 matches 'l' 5", tbl({ a: I(5) }), tbl({ a: l(5) }), true),
  h("'l' 5 matches 'I' 5", tbl({ a: l(5) }), tbl({ a: I(5) }), true),
  h("'I' 5 matches 'b' 5", tbl({ a: I(5) }), tbl({ a: b(5) }), true),
  h("'I' 5 matches 'B' 5", tbl({ a: I(5) }), tbl({ a: B(5) }), true),
  h("'I' 5 matches 's' 5", tbl({ a: I(5) }), tbl({ a: s16(5) }), true),
  h("'I' 5 matches 'u' 5", tbl({ a: I(5) }), tbl({ a: u16(5) }), true),
  h("'I' 5 matches 'i' 5", tbl({ a: I(5) }), tbl({ a: i32(5) }), true),
  h("'I' 5 matches 'd' 5.0 (integer == float)", tbl({ a: I(5) }), tbl({ a: d(5) }), true),
  h("'I' 5 matches 'f' 5.0", tbl({ a: I(5) }), tbl({ a: f(5) }), true),
  h("'I' 5 matches timestamp 5 (a timestamp is an integer)", tbl({ a: I(5) }), tbl({ a: T(5) }), true),
  h("'T' 5 matches 'l' 5", tbl({ a: T(5) }), tbl({ a: l(5) }), true),
  h("'I' 5 does not match 'd' 5.5", tbl({ a: I(5) }), tbl({ a: d(5.5) }), false),
  h("'I' 5 does not match 'I' -5", tbl({ a: I(5) }), tbl({ a: I(-5) }), false),
  h("'I' 5 does not match the string '5'", tbl({ a: I(5) }), tbl({ a: S('5') }), false),
  h("'I' 5 does not match decimal 5 (a decimal is a {Scale, Digits} tuple)", tbl({ a: I(5) }), tbl({ a: D(0, 5) }), false),
  h('decimals compare scale and digits, not value', tbl({ a: D(1, 50) }), tbl({ a: D(0, 5) }), false),
  h('equal decimals match', tbl({ a: D(1, 50) }), tbl({ a: D(1, 50) }), true),
  h("'S' matches 'x' with the same bytes", tbl({ a: S('abc') }), tbl({ a: X('abc') }), true),
  h("'x' matches 'S' with the same bytes", tbl({ a: X('abc') }), tbl({ a: S('abc') }), true),
  h('true does not match 1', tbl({ a: t(true) }), tbl({ a: I(1) }), false),
  h('0 does not match false', tbl({ a: I(0) }), tbl({ a: t(false) }), false),
  h('false matches false', tbl({ a: t(false) }), tbl({ a: t(false) }), true),
  h("'d' 0.1 does not match 'f' 0.1 (single precision)", tbl({ a: d(0.1) }), tbl({ a: f(0.1) }), false),
  h("'f' 0.1 matches 'f' 0.1", tbl({ a: f(0.1) }), tbl({ a: f(0.1) }), true),
  h("'l' 2^53+1 does not match 'd' 2^53 (exact comparison)", tbl({ a: l(2n ** 53n + 1n) }), tbl({ a: d(2 ** 53) }), false),
  h("'d' 2^53 matches 'l' 2^53", tbl({ a: d(2 ** 53) }), tbl({ a: l(2n ** 53n) }), true),
  h("'d' -0.0 matches 'I' 0", tbl({ a: d(-0) }), tbl({ a: I(0) }), true),
  h('empty string matches empty string', tbl({ a: S('') }), tbl({ a: S('') }), true),
  // void: presence
  h('void matches any value', tbl({ a: V }), tbl({ a: S('anything') }), true),
  h('void matches a void header', tbl({ a: V }), tbl({ a: V }), true),
  h('void needs the header', tbl({ a: V }), tbl({}), false),
  h('void with any needs the header', tbl({ a: V, 'x-match': S('any') }), tbl({ b: S('1') }), false),
  h('void next to a value', tbl({ a: V, b: S('2') }), tbl({ a: I(7), b: S('2') }), true),
  h('a void header does not match a value', tbl({ a: S('') }), tbl({ a: V }), false),
  // arrays and nested tables: type letters count inside
  h('equal arrays match', tbl({ a: A(S('x'), I(1)) }), tbl({ a: A(S('x'), I(1)) }), true),
  h("'S' and 'x' differ inside an array", tbl({ a: A(S('x'), I(1)) }), tbl({ a: A(X('x'), I(1)) }), false),
  h("'I' 1 and 'l' 1 differ inside an array", tbl({ a: A(S('x'), I(1)) }), tbl({ a: A(S('x'), l(1)) }), false),
  h("'I' 1 and 'd' 1.0 differ inside an array", tbl({ a: A(I(1)) }), tbl({ a: A(d(1)) }), false),
  h('an empty array matches an empty table (both are [])', tbl({ a: A() }), tbl({ a: F({}) }), true),
  h('an empty table matches an empty array', tbl({ a: F({}) }), tbl({ a: A() }), true),
  h('equal nested tables match', tbl({ a: F({ k: S('v') }) }), tbl({ a: F({ k: S('v') }) }), true),
  h('nested tables compare in wire order', tbl({ a: F({ k: S('v'), j: I(1) }) }), tbl({ a: F({ j: I(1), k: S('v') }) }), false),
  h("'S' and 'x' differ inside a nested table", tbl({ a: F({ k: S('v') }) }), tbl({ a: F({ k: X('v') }) }), false),
];
