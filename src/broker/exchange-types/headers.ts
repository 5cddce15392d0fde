/**
 * Headers exchange (AMQP 0-9-1 §3.1.3.4), as RabbitMQ 3.10's rabbit_exchange_type_headers:
 *
 * - `x-match` is `all` (also when absent), `any`, `all-with-x` or `any-with-x`. The `x-match` entry
 *   itself never takes part in matching; other binding arguments whose key starts with `x-` are
 *   ignored too unless the mode is one of the `-with-x` ones.
 * - A binding argument of type void (`V`) matches when the header is present, whatever its value.
 * - Otherwise a header matches when its value is equal in Erlang's `==` sense, ignoring the type
 *   letter: every integer and float type compares by numeric value (`I` 5 = `l` 5 = `d` 5.0 = `T` 5),
 *   `S` and `x` compare as bytes, `t` only with `t`, `D` only with a `D` of the same scale and digits.
 *   Inside arrays and nested tables the type letters do count (RabbitMQ holds those as
 *   {Type, Value} tuples) and nested tables compare in wire order; an empty array equals an empty
 *   table (both are Erlang's []).
 * - `all` matches when every remaining argument matches (so an empty pattern matches every message),
 *   `any` when at least one does (so an empty pattern matches none). Missing headers are an empty
 *   table.
 *
 * Each binding is compiled at bind time to its mode and the (key, value) pairs that take part, so
 * routing is a loop over bindings and pattern entries with one Map lookup each, allocating nothing.
 */
import { preconditionFailed } from '../../errors.js';
import type { FieldTable, FieldValue } from '../../types/field-table.js';
import { EMPTY_TABLE } from '../../types/field-table.js';
import { type Binding, type BindingDestination, BindingList } from '../binding.js';
import type { ExchangeRouter, RouteCollector } from './router.js';

interface HeadersEntry {
  readonly identity: string;
  readonly destination: BindingDestination;
  readonly any: boolean;
  readonly keys: readonly string[];
  readonly values: readonly FieldValue[];
}

export class HeadersRouter implements ExchangeRouter {
  private readonly list = new BindingList<HeadersEntry>();

  get bindingCount(): number {
    return this.list.length;
  }

  add(b: Binding): void {
    this.list.add(compile(b));
  }

  remove(b: Binding): void {
    this.list.remove(b.identity);
  }

  route(_routingKey: string, headers: FieldTable | undefined, out: RouteCollector): void {
    const h = headers ?? EMPTY_TABLE;
    const items = this.list.items;
    for (let i = 0; i < items.length; i++) {
      const e = items[i]!;
      if (entryMatches(e, h)) out.push(e.destination);
    }
  }
}

function compile(b: Binding): HeadersEntry {
  const mode = xMatchMode(b.arguments.get('x-match'));
  const withX = mode === 'all-with-x' || mode === 'any-with-x';
  const keys: string[] = [];
  const values: FieldValue[] = [];
  for (const [k, v] of b.arguments) {
    if (k === 'x-match' || (!withX && k.startsWith('x-'))) continue;
    keys.push(k);
    values.push(v);
  }
  return { identity: b.identity, destination: b.destination, any: mode === 'any' || mode === 'any-with-x', keys, values };
}

type XMatch = 'all' | 'any' | 'all-with-x' | 'any-with-x';

/** parse_x_match/1: anything unrecognised means `all` (bindings made before validation existed). */
function xMatchMode(v: FieldValue | undefined): XMatch {
  if (v === undefined || v.type !== 'S') return 'all';
  const s = v.value.toString('latin1');
  return s === 'any' || s === 'all-with-x' || s === 'any-with-x' ? s : 'all';
}

/** Exported for unit tests: does one compiled binding match these headers? */
export function headersMatch(bindingArguments: FieldTable, headers: FieldTable | undefined): boolean {
  const b: Binding = {
    source: '', destination: { kind: 'queue', name: '' }, routingKey: '', arguments: bindingArguments, identity: '',
  };
  return entryMatches(compile(b), headers ?? EMPTY_TABLE);
}

function entryMatches(e: HeadersEntry, headers: FieldTable): boolean {
  const keys = e.keys;
  const values = e.values;
  if (e.any) {
    for (let i = 0; i < keys.length; i++) {
      const h = headers.get(keys[i]!);
      if (h !== undefined && patternValueMatches(values[i]!, h)) return true;
    }
    return false;
  }
  for (let i = 0; i < keys.length; i++) {
    const h = headers.get(keys[i]!);
    if (h === undefined || !patternValueMatches(values[i]!, h)) return false;
  }
  return true;
}

function patternValueMatches(pattern: FieldValue, header: FieldValue): boolean {
  return pattern.type === 'V' || erlangEquals(pattern, header);
}

/** Erlang `==` on the values of two fields, their type letters ignored (headers_match/5: PV == DV). */
function erlangEquals(a: FieldValue, b: FieldValue): boolean {
  switch (a.type) {
    case 'b': case 'B': case 's': case 'u': case 'I': case 'i': case 'f': case 'd': case 'l': case 'T':
      switch (b.type) {
        case 'b': case 'B': case 's': case 'u': case 'I': case 'i': case 'f': case 'd': case 'l': case 'T':
          return numbersEqual(a.value, b.value);
        default:
          return false;
      }
    case 'S': case 'x':
      // Both are Erlang binaries: a longstr equals a byte array with the same bytes.
      return (b.type === 'S' || b.type === 'x') && a.value.equals(b.value);
    case 't':
      return b.type === 't' && a.value === b.value;
    case 'D':
      return b.type === 'D' && a.value.scale === b.value.scale && a.value.value === b.value.value;
    case 'V':
      return b.type === 'V';
    case 'A': {
      // An empty array and an empty table are both Erlang's [] and so equal.
      if (b.type === 'F') return a.value.length === 0 && b.value.size === 0;
      if (b.type !== 'A' || a.value.length !== b.value.length) return false;
      for (let i = 0; i < a.value.length; i++) if (!taggedEquals(a.value[i]!, b.value[i]!)) return false;
      return true;
    }
    case 'F': {
      if (b.type === 'A') return a.value.size === 0 && b.value.length === 0;
      if (b.type !== 'F' || a.value.size !== b.value.size) return false;
      const other = b.value.entries();
      for (const [k, v] of a.value) {
        const next = other.next();
        if (next.done === true || next.value[0] !== k || !taggedEquals(v, next.value[1])) return false;
      }
      return true;
    }
  }
}

/** Equality of {Type, Value} tuples inside arrays and nested tables: the type letters must agree. */
function taggedEquals(a: FieldValue, b: FieldValue): boolean {
  return a.type === b.type && erlangEquals(a, b);
}

/**
 * Exact numeric equality across number and bigint, as Erlang compares integers with floats. JavaScript's
 * `==` between a bigint and a number compares the mathematical values exactly (2^53 + 1 ≠ 2^53) and,
 * unlike BigInt(n) === big, allocates nothing.
 */
function numbersEqual(x: number | bigint, y: number | bigint): boolean {
  return typeof x === typeof y ? x === y : (x as unknown) == y;
}

// ---------------------------------------------------------------------------------------- validation

/**
 * validate_binding/2. The texts are RabbitMQ 3.10's, whose format uses `~p`: a binary prints as
 * `<<"any">>` when every byte is printable Latin-1, else as `<<1,2,3>>`; other values as Erlang terms.
 */
export function validateHeadersBindingArguments(args: FieldTable): void {
  const v = args.get('x-match');
  if (v === undefined) return; // "useful to allow people to do this" (RabbitMQ's comment)
  if (v.type === 'S') {
    const s = v.value.toString('latin1');
    if (s === 'all' || s === 'any' || s === 'all-with-x' || s === 'any-with-x') return;
    const prefix = 'Invalid x-match field value ';
    throw preconditionFailed(`${prefix}${printTerm(binaryTerm(v.value), prefix.length)}; expected all, any, all-with-x, or any-with-x`);
  }
  const prefix = `Invalid x-match field type ${TYPE_NAMES[v.type]} (value `;
  throw preconditionFailed(`${prefix}${printTerm(valueTerm(v), prefix.length)}); expected longstr`);
}

/** rabbit_binary_parser's type atoms. */
const TYPE_NAMES: Readonly<Record<FieldValue['type'], string>> = {
  t: 'bool', b: 'byte', B: 'unsignedbyte', s: 'short', u: 'unsignedshort', I: 'signedint', i: 'unsignedint',
  l: 'long', f: 'float', d: 'double', D: 'decimal', S: 'longstr', A: 'array', T: 'timestamp', F: 'table',
  V: 'void', x: 'binary',
};

// An Erlang term as RabbitMQ holds a field value: tables are lists of {Key, Type, Value}, arrays lists
// of {Type, Value}, decimals {Scale, Digits}, void the atom undefined. `text` is its one-line form.
interface Term {
  readonly text: string;
  /** Leaves (atoms, numbers, binaries) may share a line with their neighbours when broken. */
  readonly leaf: boolean;
  readonly atom: boolean;
  /** Children of a tuple or list; a tuple whose first element is an atom is "tagged". */
  readonly items: readonly Term[];
  /** A binary printed as bytes (`<<1,2>>`): not a leaf, and broken across lines when long. */
  readonly bytes?: readonly number[];
  readonly list: boolean;
  readonly tagged: boolean;
}

const NO_ITEMS: readonly Term[] = [];

function leafTerm(text: string, atom = false): Term {
  return { text, leaf: true, atom, items: NO_ITEMS, list: false, tagged: false };
}

function tupleTerm(items: readonly Term[]): Term {
  const tagged = items.length > 1 && items[0]!.atom;
  return { text: `{${items.map((t) => t.text).join(',')}}`, leaf: false, atom: false, items, list: false, tagged };
}

function listTerm(items: readonly Term[]): Term {
  return { text: `[${items.map((t) => t.text).join(',')}]`, leaf: false, atom: false, items, list: true, tagged: false };
}

function valueTerm(v: FieldValue): Term {
  switch (v.type) {
    case 'b': case 'B': case 's': case 'u': case 'I': case 'i':
      return leafTerm(String(v.value));
    case 'l': case 'T':
      return leafTerm(v.value.toString());
    case 'f': case 'd':
      return leafTerm(erlangFloat(v.value));
    case 't':
      return leafTerm(v.value ? 'true' : 'false', true);
    case 'V':
      return leafTerm('undefined', true);
    case 'S': case 'x':
      return binaryTerm(v.value);
    case 'D':
      return tupleTerm([leafTerm(String(v.value.scale)), leafTerm(String(v.value.value))]);
    case 'A':
      return listTerm(v.value.map((e) => tupleTerm([leafTerm(TYPE_NAMES[e.type], true), valueTerm(e)])));
    case 'F':
      return listTerm([...v.value].map(([key, e]) =>
        tupleTerm([binaryTerm(Buffer.from(key, 'utf8')), leafTerm(TYPE_NAMES[e.type], true), valueTerm(e)])));
  }
}

/** `~p` of a binary: a string literal when every byte is printable Latin-1 (io_lib:printable_latin1_list). */
function binaryTerm(buf: Buffer): Term {
  if (buf.length === 0) return leafTerm('<<>>');
  let printable = true;
  for (const c of buf) {
    if (!((c >= 0x20 && c <= 0x7e) || c >= 0xa0 || (c >= 0x08 && c <= 0x0d) || c === 0x1b)) { printable = false; break; }
  }
  if (!printable) {
    const bytes = [...buf];
    return { text: `<<${bytes.join(',')}>>`, leaf: false, atom: false, items: NO_ITEMS, list: false, tagged: false, bytes };
  }
  // One char per byte (Erlang prints the Latin-1 characters and counts them for line breaking);
  // printTerm turns the bytes back into text at the end.
  let s = '';
  for (const ch of buf.toString('latin1')) s += STRING_ESCAPES[ch] ?? ch;
  return leafTerm(`<<"${s}">>`);
}

const STRING_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\b': '\\b', '\f': '\\f', '\x1b': '\\e',
};

/**
 * Erlang's shortest round-trip float text (io_lib_format:fwrite_g/1): the same digits as JavaScript's,
 * written plain or with an exponent, whichever is shorter (plain on a tie), always with a `.`.
 */
export function erlangFloat(n: number): string {
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const sign = n < 0 ? '-' : '';
  const [mantissa, exponent] = Math.abs(n).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exp = Number(exponent);
  const place = exp + 1; // digits before the decimal point
  let plain: string;
  if (place <= 0) plain = `0.${'0'.repeat(-place)}${digits}`;
  else if (place < digits.length) plain = `${digits.slice(0, place)}.${digits.slice(place)}`;
  else plain = `${digits}${'0'.repeat(place - digits.length)}.0`;
  const scientific = `${digits[0]}.${digits.length > 1 ? digits.slice(1) : '0'}e${exp}`;
  return sign + (plain.length <= scientific.length ? plain : scientific);
}

/**
 * io_lib_pretty:print/4 as `~p` calls it after `precedingChars` characters on the line (line length 80,
 * no depth limit), for the terms above: one line when the term fits; else lists one element per line,
 * tuples filled with their leaves, tagged tuples ({longstr, ...}) continued after the tag or, when
 * cind/7 finds that does not fit, on the next lines; unprintable binaries filled byte by byte.
 * The names (pp, ppTail, cind, ...) follow stdlib's, and the result was checked against erl on
 * random terms.
 */
function printTerm(t: Term, precedingChars: number): string {
  const col = precedingChars + 1;
  let out = t.text;
  if (t.text.length >= LL - col) {
    const p = new Pretty(t.text.length);
    p.tind = p.tagIndentFits(t, col, -1) ? -1 : p.tagIndentFits(t, col, 4) ? 4 : 1;
    out = p.pp(t, col, ' '.repeat(col - 1), 0, 0);
  }
  // RabbitMQ sends the printed bytes as they are; as text they read as UTF-8 (invalid UTF-8 cannot be
  // carried by a JS string and becomes U+FFFD).
  return Buffer.from(out, 'latin1').toString('utf8');
}

const LL = 80;

/** last_depth/2: closing brackets that follow the last element. */
const lastDepth = (items: readonly Term[], i: number, ld: number): number => (i === items.length - 1 ? ld + 1 : 0);

class Pretty {
  tind = -1;
  /** M: with no character limit, the length of the whole term. */
  constructor(private readonly m: number) {}

  private fits(t: Term, col: number, ld: number, w: number): boolean {
    const len = t.text.length;
    return len < LL - col - ld && len + w + ld <= this.m;
  }

  pp(t: Term, col: number, ind: string, ld: number, w: number): string {
    if (t.leaf || this.fits(t, col, ld, w)) return t.text;
    if (t.bytes !== undefined) return this.ppBinary(t.bytes, col + 2, `${ind}  `, ld, w);
    if (t.tagged) return `{${this.ppTagTuple(t.items, col, ind, ld, w + 1)}}`;
    const [open, close] = t.list ? ['[', ']'] : ['{', '}'];
    return `${open}${this.ppList(t.items, 0, col + 1, `${ind} `, ld, w + 1)}${close}`;
  }

  /** pp_binary/7: fill lines with the comma-separated bytes. */
  private ppBinary(bytes: readonly number[], col: number, ind: string, ld: number, w: number): string {
    const n0 = Math.max(8, Math.min(LL - col, this.m - 4 - w) - ld);
    let n = n0;
    let out = '<<';
    for (let i = 0; i < bytes.length; i++) {
      const b = String(bytes[i]!);
      if (i === bytes.length - 1) {
        out += b.length > n ? `\n${ind}${b}` : b;
        break;
      }
      const len = b.length + 1;
      if (n - len < 0) {
        out += `\n${ind}${b},`;
        n = n0 - len;
      } else {
        out += `${b},`;
        n -= len;
      }
    }
    return `${out}>>`;
  }

  private ppTagTuple(items: readonly Term[], col: number, ind: string, ld: number, w: number): string {
    const tag = items[0]!.text;
    const tagInd = tag.length + 2;
    const tcol = col + tagInd;
    if (this.tind > 0 && tagInd > this.tind) {
      return tag + this.ppTail(items, 1, col + this.tind, tcol, ind + ' '.repeat(this.tind), ld, w + tag.length);
    }
    return `${tag},${this.ppList(items, 1, tcol, ind + ' '.repeat(tagInd), ld, w + tag.length + 1)}`;
  }

  /** pp_list/9 over items[from..]. */
  private ppList(items: readonly Term[], from: number, col0: number, ind: string, ld: number, w: number): string {
    if (from >= items.length) return '';
    const e = this.ppElement(items[from]!, col0, ind, lastDepth(items, from, ld), w);
    return e.text + this.ppTail(items, from + 1, col0, col0 + e.width, ind, ld, w + e.width);
  }

  private ppTail(items: readonly Term[], from: number, col0: number, col: number, ind: string, ld: number, w: number): string {
    let out = '';
    for (let i = from; i < items.length; i++) {
      const e = items[i]!;
      const ld1 = lastDepth(items, i, ld);
      const elen = 1 + e.text.length;
      if (e.leaf && this.inline(elen, col, ld1, w)) {
        out += `,${e.text}`;
        col += elen;
        w += elen;
      } else {
        const el = this.ppElement(e, col0, ind, ld1, 0);
        out += `,\n${ind}${el.text}`;
        col = col0 + el.width;
        w = el.width;
      }
    }
    return out;
  }

  private inline(elen: number, col: number, ld1: number, w: number): boolean {
    return ld1 === 0
      ? elen + 1 < LL - col && w + elen + 1 <= this.m
      : elen < LL - col - ld1 && w + elen + ld1 <= this.m;
  }

  /** pp_element/8: a leaf that fits reports its width; anything else forces a new line after it. */
  private ppElement(t: Term, col: number, ind: string, ld: number, w: number): { text: string; width: number } {
    if (t.leaf && this.fits(t, col, ld, w)) return { text: t.text, width: t.text.length };
    return { text: this.pp(t, col, ind, ld, w), width: LL };
  }

  /** cind/7: can the term be laid out with tag indentation `tind` without running off the line? */
  tagIndentFits(t: Term, col: number, tind: number): boolean {
    const walk = (x: Term, c: number, ld: number, w: number): boolean => {
      if (x.leaf || x.bytes !== undefined || this.fits(x, c, ld, w)) return true;
      if (!x.tagged) return walkList(x.items, 0, c + 1, ld, w + 1);
      const tlen = x.items[0]!.text.length;
      const tagInd = tlen + 2;
      const tcol = c + tagInd;
      if (tind > 0 && tagInd > tind) {
        const col1 = c + tind;
        if (!(this.m + col1 <= LL || col1 <= LL / 2)) return false;
        return walkTail(x.items, 1, col1, tcol, ld, w + 1 + tlen);
      }
      if (!(this.m + tcol < LL || tcol < LL / 2)) return false;
      return walkList(x.items, 1, tcol, ld, w + 1 + tlen + 1);
    };
    const element = (x: Term, c: number, ld: number, w: number): number | undefined => {
      if (x.leaf && this.fits(x, c, ld, w)) return x.text.length;
      return walk(x, c, ld, w) ? LL : undefined;
    };
    const walkList = (items: readonly Term[], from: number, col0: number, ld: number, w: number): boolean => {
      if (from >= items.length) return true;
      const we = element(items[from]!, col0, lastDepth(items, from, ld), w);
      return we !== undefined && walkTail(items, from + 1, col0, col0 + we, ld, w + we);
    };
    const walkTail = (items: readonly Term[], from: number, col0: number, c: number, ld: number, w: number): boolean => {
      for (let i = from; i < items.length; i++) {
        const e = items[i]!;
        const ld1 = lastDepth(items, i, ld);
        const elen = 1 + e.text.length;
        if (e.leaf && this.inline(elen, c, ld1, w)) {
          c += elen;
          w += elen;
        } else {
          const we = element(e, col0, ld1, 0);
          if (we === undefined) return false;
          c = col0 + we;
          w = we;
        }
      }
      return true;
    };
    return walk(t, col, 0, 0);
  }
}
