import { expect } from 'chai';
import { type BindingDestination, makeBinding } from '../../../../src/broker/binding.js';
import {
  createRouter,
  HeadersRouter,
  headersMatch,
  validateBindingArguments,
  type RouteCollector,
} from '../../../../src/broker/exchange-types/index.js';
import { erlangFloat } from '../../../../src/broker/exchange-types/headers.js';
import { AmqpError } from '../../../../src/errors.js';
import type { FieldTable, FieldValue } from '../../../../src/types/field-table.js';
import { A, b, D, d, F, f, HEADERS_GOLDEN, I, l, S, T, t, tbl, V, X } from './golden.js';

class Collector implements RouteCollector {
  readonly pushed: BindingDestination[] = [];
  push(destination: BindingDestination): void {
    this.pushed.push(destination);
  }
}

const queue = (name: string): BindingDestination => ({ kind: 'queue', name });

function route(router: HeadersRouter, headers: FieldTable | undefined): string[] {
  const out = new Collector();
  router.route('ignored', headers, out);
  return out.pushed.map((x) => x.name).sort();
}

function validationError(args: FieldTable): AmqpError {
  try {
    validateBindingArguments('headers', args);
  } catch (e) {
    expect(e).to.be.instanceOf(AmqpError);
    return e as AmqpError;
  }
  expect.fail('expected validateBindingArguments to throw');
}

describe('headers exchange router', () => {
  describe('golden table (confirmed against RabbitMQ 3.10.8)', () => {
    for (const g of HEADERS_GOLDEN) {
      it(`${g.name}: ${g.match ? 'match' : 'no match'}`, () => {
        expect(headersMatch(g.binding, g.headers)).to.equal(g.match);
        const router = new HeadersRouter();
        router.add(makeBinding('x', queue('q'), '', g.binding));
        expect(route(router, g.headers)).to.deep.equal(g.match ? ['q'] : []);
      });
    }
  });

  it('ignores the routing key', () => {
    const router = new HeadersRouter();
    router.add(makeBinding('x', queue('q'), 'some-key', tbl({ a: S('1') })));
    const out = new Collector();
    router.route('another-key', tbl({ a: S('1') }), out);
    expect(out.pushed.map((x) => x.name)).to.deep.equal(['q']);
  });

  it('routes each binding on its own, pushing a destination once per matching binding', () => {
    const router = new HeadersRouter();
    const q = queue('q');
    const all = makeBinding('x', q, '', tbl({ a: S('1'), b: S('2') }));
    const any = makeBinding('x', q, '', tbl({ a: S('1'), b: S('2'), 'x-match': S('any') }));
    const other = makeBinding('x', queue('r'), '', tbl({ b: S('2') }));
    for (const bnd of [all, any, other]) router.add(bnd);
    expect(router.bindingCount).to.equal(3);
    expect(route(router, tbl({ a: S('1'), b: S('2') }))).to.deep.equal(['q', 'q', 'r']);
    expect(route(router, tbl({ a: S('1') }))).to.deep.equal(['q']);
    router.remove(any);
    expect(router.bindingCount).to.equal(2);
    expect(route(router, tbl({ a: S('1') }))).to.deep.equal([]);
    expect(route(router, tbl({ a: S('1'), b: S('2') }))).to.deep.equal(['q', 'r']);
    router.remove(all);
    router.remove(other);
    expect(router.bindingCount).to.equal(0);
    expect(route(router, tbl({ a: S('1'), b: S('2') }))).to.deep.equal([]);
  });

  it('routes among 10k bindings and unbinds them all', () => {
    const router = new HeadersRouter();
    const bindings = Array.from({ length: 10_000 }, (_, i) =>
      makeBinding('x', queue(`q${i}`), '', tbl({ id: I(i), kind: S(i % 2 === 0 ? 'even' : 'odd') })));
    for (const bnd of bindings) router.add(bnd);
    expect(route(router, tbl({ id: l(4242), kind: S('even') }))).to.deep.equal(['q4242']);
    expect(route(router, tbl({ id: l(4242), kind: S('odd') }))).to.deep.equal([]);
    for (const bnd of bindings) router.remove(bnd);
    expect(router.bindingCount).to.equal(0);
  });

  it('is what createRouter makes for "headers"', () => {
    expect(createRouter('headers')).to.be.instanceOf(HeadersRouter);
  });

  describe('x-match validation (rabbit_exchange_type_headers:validate_binding/2)', () => {
    for (const mode of ['all', 'any', 'all-with-x', 'any-with-x']) {
      it(`accepts x-match ${mode}`, () => {
        expect(() => validateBindingArguments('headers', tbl({ 'x-match': S(mode), a: S('1') }))).not.to.throw();
      });
    }

    it('accepts a binding without x-match', () => {
      expect(() => validateBindingArguments('headers', tbl({ a: S('1') }))).not.to.throw();
      expect(() => validateBindingArguments('headers', tbl({}))).not.to.throw();
    });

    it('does not validate x-match for the other exchange types', () => {
      for (const type of ['direct', 'fanout', 'topic'] as const) {
        expect(() => validateBindingArguments(type, tbl({ 'x-match': S('bogus') }))).not.to.throw();
        expect(() => validateBindingArguments(type, tbl({ 'x-match': I(1) }))).not.to.throw();
      }
    });

    // The texts RabbitMQ 3.10.8 sent back for these bindings (amqplib, recorded on a live node).
    const VALUE = (v: string): string => `Invalid x-match field value ${v}; expected all, any, all-with-x, or any-with-x`;
    const TYPE = (type: string, v: string): string => `Invalid x-match field type ${type} (value ${v}); expected longstr`;
    const cases: [string, FieldValue, string][] = [
      ['an unknown mode', S('foo'), VALUE('<<"foo">>')],
      ['a mode in capitals', S('ALL'), VALUE('<<"ALL">>')],
      ['an empty string', S(''), VALUE('<<>>')],
      ['Latin-1-printable UTF-8 (bytes sent as they are)', S('héllo'), VALUE('<<"héllo">>')],
      ['other UTF-8 (bytes listed)', S('日本'), VALUE('<<230,151,165,230,156,172>>')],
      ['a control character', S('\x01x'), VALUE('<<1,120>>')],
      ['a quote', S('a"b'), VALUE('<<"a\\"b">>')],
      ['a backslash', S('a\\b'), VALUE('<<"a\\\\b">>')],
      ['a newline', S('a\nb'), VALUE('<<"a\\nb">>')],
      ['a long', l(5), TYPE('long', '5')],
      ['a negative int', I(-5), TYPE('signedint', '-5')],
      ['a bool', t(true), TYPE('bool', 'true')],
      ['a double', d(1.5), TYPE('double', '1.5')],
      ['a double with a fraction', d(5.0001), TYPE('double', '5.0001')],
      ['a large double', d(1e25), TYPE('double', '1.0e25')],
      ['a small double', d(0.0001), TYPE('double', '0.0001')],
      ['a smaller double', d(1e-5), TYPE('double', '1.0e-5')],
      ['an integral double', d(5), TYPE('double', '5.0')],
      ['a byte array', X('any'), TYPE('binary', '<<"any">>')],
      ['an unprintable byte array', { type: 'x', value: Buffer.from([1, 2, 255]) }, TYPE('binary', '<<1,2,255>>')],
      ['void', V, TYPE('void', 'undefined')],
      ['a decimal', D(2, 500), TYPE('decimal', '{2,500}')],
      ['a timestamp', T(1000), TYPE('timestamp', '1000')],
      ['an array', A(S('a'), b(1)), TYPE('array', '[{longstr,<<"a">>},{byte,1}]')],
      ['a float', f(0.1), TYPE('float', '0.10000000149011612')],
      ['a table (printed over two lines, as io_lib_pretty breaks it at 80 columns)', F({ k: S('v'), n: b(1) }),
        TYPE('table', '[{<<"k">>,longstr,<<"v">>},\n                                         {<<"n">>,byte,1}]')],
    ];
    for (const [what, value, text] of cases) {
      it(`refuses ${what} with 406 and RabbitMQ's text`, () => {
        const err = validationError(tbl({ 'x-match': value }));
        expect(err.replyCode).to.equal(406);
        expect(err.explanation).to.equal(text);
        expect(err.message).to.equal(`PRECONDITION_FAILED - ${text}`);
      });
    }

    it('keeps the whole text of a long value (the reply-text cap is applied when replying)', () => {
      const err = validationError(tbl({ 'x-match': S('x'.repeat(300)) }));
      expect(err.explanation).to.equal(VALUE(`<<"${'x'.repeat(300)}">>`));
    });

    it('breaks long unprintable binaries and nested terms as io_lib_pretty does (checked against erl)', () => {
      const ones = { type: 'x', value: Buffer.alloc(44, 1) } as const;
      expect(validationError(tbl({ 'x-match': ones })).explanation).to.equal(
        'Invalid x-match field type binary (value <<1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,\n' +
        '                                           1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,\n' +
        '                                           1,1,1,1,1,1,1,1>>); expected longstr');
      const nested = F({ k: { type: 'F', value: tbl({ a: S('b'), c: A(b(1), b(2), b(3), b(4), b(5), b(6)) }) } });
      expect(validationError(tbl({ 'x-match': nested })).explanation).to.equal(
        'Invalid x-match field type table (value [{<<"k">>,table,\n' +
        '                                          [{<<"a">>,longstr,<<"b">>},\n' +
        '                                           {<<"c">>,array,\n' +
        '                                            [{byte,1},\n' +
        '                                             {byte,2},\n' +
        '                                             {byte,3},\n' +
        '                                             {byte,4},\n' +
        '                                             {byte,5},\n' +
        '                                             {byte,6}]}]}]); expected longstr');
    });
  });

  describe('erlangFloat (io_lib_format:fwrite_g/1, checked against erl)', () => {
    const cases: [number, string][] = [
      [1e10, '1.0e10'], [100, '100.0'], [1000, '1.0e3'], [123000, '1.23e5'], [1.5e-3, '0.0015'], [1.5e-4, '1.5e-4'],
      [1e15, '1.0e15'], [1e21, '1.0e21'], [123456789, '123456789.0'], [1.2345e-7, '1.2345e-7'], [0.001, '0.001'],
      [0.0001, '0.0001'], [12345678901234567890, '1.2345678901234567e19'], [-0, '-0.0'], [0, '0.0'], [-2.5, '-2.5'],
      [5e-324, '5.0e-324'], [1.7976931348623157e308, '1.7976931348623157e308'],
    ];
    for (const [n, text] of cases) {
      it(`${n} → ${text}`, () => {
        expect(erlangFloat(n)).to.equal(text);
      });
    }
  });
});
