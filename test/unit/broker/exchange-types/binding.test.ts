import { expect } from 'chai';
import { type Binding, BindingList, type BindingDestination, bindingIdentity, makeBinding } from '../../../../src/broker/binding.js';
import { isExchangeType } from '../../../../src/broker/exchange-types/index.js';
import { EMPTY_TABLE, type FieldTable } from '../../../../src/types/field-table.js';
import { A, b, B, d, F, I, l, S, tbl, V, X } from './golden.js';

const queue = (name: string): BindingDestination => ({ kind: 'queue', name });
const exchange = (name: string): BindingDestination => ({ kind: 'exchange', name });
const id = (args: FieldTable, key = 'k', dst = queue('q'), source = 'x'): string => bindingIdentity(source, dst, key, args);

describe('bindings', () => {
  it('makeBinding keeps the destination object and computes the identity', () => {
    const q = queue('q');
    const args = tbl({ a: S('1') });
    const bnd = makeBinding('x', q, 'k', args);
    expect(bnd.destination).to.equal(q);
    expect(bnd.arguments).to.equal(args);
    expect(bnd).to.include({ source: 'x', routingKey: 'k', identity: bindingIdentity('x', q, 'k', args) });
  });

  describe('identity (same record ⇔ same binding, as RabbitMQ compares #binding{})', () => {
    it('is equal for equal bindings built separately', () => {
      expect(id(tbl({ a: S('1'), n: A(I(1), F({ k: V })) }))).to.equal(id(tbl({ a: S('1'), n: A(I(1), F({ k: V })) })));
      expect(bindingIdentity('x', queue('q'), 'k', EMPTY_TABLE)).to.equal(bindingIdentity('x', { kind: 'queue', name: 'q' }, 'k', new Map()));
    });

    it('ignores the order of top-level arguments (RabbitMQ sorts them)', () => {
      expect(id(tbl({ a: S('1'), b: S('2') }))).to.equal(id(tbl({ b: S('2'), a: S('1') })));
    });

    it('keeps the order inside nested tables (compared as lists)', () => {
      expect(id(tbl({ t: F({ a: S('1'), b: S('2') }) }))).not.to.equal(id(tbl({ t: F({ b: S('2'), a: S('1') }) })));
    });

    it('differs with any part of the record', () => {
      const all = [
        id(EMPTY_TABLE),
        id(EMPTY_TABLE, 'k2'),
        id(EMPTY_TABLE, 'k', queue('q2')),
        id(EMPTY_TABLE, 'k', exchange('q')),
        id(EMPTY_TABLE, 'k', queue('q'), 'y'),
        id(tbl({ a: S('1') })),
        id(tbl({ a: X('1') })),
        id(tbl({ a: I(1) })),
        id(tbl({ a: l(1) })),
        id(tbl({ a: b(1) })),
        id(tbl({ a: B(1) })),
        id(tbl({ a: d(1) })),
        id(tbl({ a: V })),
        id(tbl({ a: A() })),
        id(tbl({ a: F({}) })),
        id(tbl({ a: A(S('1')) })),
        id(tbl({ a: A(S('1'), S('')) })),
        id(tbl({ a: A(S('1,S0:')) })),
        id(tbl({ b: S('1') })),
      ];
      expect(new Set(all).size).to.equal(all.length);
    });

    it('cannot be forged by names containing the separators', () => {
      expect(bindingIdentity('a', queue('bq1:c'), '', EMPTY_TABLE)).not.to.equal(bindingIdentity('a1:b', queue('c'), '', EMPTY_TABLE));
      expect(id(EMPTY_TABLE, 'k{1,1:aS1:1}')).not.to.equal(id(tbl({ a: S('1') }), 'k'));
      expect(id(tbl({ 'a1:b': S('') }))).not.to.equal(id(tbl({ a: S('1:b') })));
    });
  });

  describe('BindingList', () => {
    const entry = (n: number): Binding => makeBinding('x', queue(`q${n}`), '', EMPTY_TABLE);

    for (const size of [3, 8, 9, 100]) {
      it(`adds and removes by identity (${size} entries)`, () => {
        const list = new BindingList();
        const entries = Array.from({ length: size }, (_, i) => entry(i));
        for (const e of entries) list.add(e);
        expect(list.length).to.equal(size);
        expect(list.remove(entry(size + 1).identity)).to.equal(undefined);
        expect(list.remove(entries[1]!.identity)).to.equal(entries[1]);
        expect(list.remove(entries[1]!.identity)).to.equal(undefined);
        expect(list.remove(entries[size - 1]!.identity)).to.equal(entries[size - 1]);
        expect(list.items.map((e) => e.destination.name).sort()).to.deep.equal(
          entries.filter((_, i) => i !== 1 && i !== size - 1).map((e) => e.destination.name).sort());
        for (const e of entries) list.remove(e.identity);
        expect(list.length).to.equal(0);
        list.add(entries[0]!);
        expect(list.items).to.deep.equal([entries[0]]);
      });
    }
  });

  it('isExchangeType knows the four built-in types only', () => {
    for (const type of ['direct', 'fanout', 'topic', 'headers']) expect(isExchangeType(type)).to.equal(true);
    for (const type of ['', 'Direct', 'x-delayed-message', 'match', 'system', 'x-consistent-hash']) expect(isExchangeType(type)).to.equal(false);
  });
});
