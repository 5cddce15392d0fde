import { expect } from 'chai';
import { type BindingDestination, makeBinding } from '../../../../src/broker/binding.js';
import { createRouter, FanoutRouter, type RouteCollector } from '../../../../src/broker/exchange-types/index.js';
import { EMPTY_TABLE } from '../../../../src/types/field-table.js';
import { S, tbl } from './golden.js';

class Collector implements RouteCollector {
  readonly pushed: BindingDestination[] = [];
  push(destination: BindingDestination): void {
    this.pushed.push(destination);
  }
}

const queue = (name: string): BindingDestination => ({ kind: 'queue', name });

function route(router: FanoutRouter, key: string, headers = EMPTY_TABLE): string[] {
  const out = new Collector();
  router.route(key, headers, out);
  return out.pushed.map((d) => d.name).sort();
}

describe('fanout exchange router', () => {
  it('routes to every binding whatever the key, arguments and headers', () => {
    const r = new FanoutRouter();
    r.add(makeBinding('x', queue('a'), 'a', EMPTY_TABLE));
    r.add(makeBinding('x', queue('b'), '', tbl({ 'x-match': S('any'), k: S('v') })));
    r.add(makeBinding('x', { kind: 'exchange', name: 'e' }, '#', EMPTY_TABLE));
    for (const key of ['', 'a', 'zzz', '#']) expect(route(r, key)).to.deep.equal(['a', 'b', 'e']);
    expect(route(r, 'a', tbl({ k: S('other') }))).to.deep.equal(['a', 'b', 'e']);
  });

  it('routes nowhere when nothing is bound', () => {
    expect(route(new FanoutRouter(), 'a')).to.deep.equal([]);
  });

  it('pushes a destination once per binding', () => {
    const r = new FanoutRouter();
    const q = queue('q');
    r.add(makeBinding('x', q, 'one', EMPTY_TABLE));
    r.add(makeBinding('x', q, 'two', EMPTY_TABLE));
    const out = new Collector();
    r.route('', undefined, out);
    expect(out.pushed).to.deep.equal([q, q]);
  });

  it('binds and unbinds 10k destinations in any order', () => {
    const r = new FanoutRouter();
    const bindings = Array.from({ length: 10_000 }, (_, i) => makeBinding('x', queue(`q${i}`), '', EMPTY_TABLE));
    for (const b of bindings) r.add(b);
    expect(r.bindingCount).to.equal(10_000);
    // Remove the even ones, from the middle outwards, then check exactly the odd ones are left.
    const evens = bindings.filter((_, i) => i % 2 === 0);
    for (const b of [...evens.slice(2_500), ...evens.slice(0, 2_500).reverse()]) r.remove(b);
    expect(r.bindingCount).to.equal(5_000);
    const names = route(r, '');
    expect(names).to.have.length(5_000);
    expect(names.every((n) => Number(n.slice(1)) % 2 === 1)).to.equal(true);
    for (const b of bindings) r.remove(b);
    expect(r.bindingCount).to.equal(0);
  });

  it('is what createRouter makes for "fanout"', () => {
    expect(createRouter('fanout')).to.be.instanceOf(FanoutRouter);
  });
});
