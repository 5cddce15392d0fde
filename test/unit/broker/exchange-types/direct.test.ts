import { expect } from 'chai';
import { type BindingDestination, makeBinding } from '../../../../src/broker/binding.js';
import { createRouter, DirectRouter, type RouteCollector } from '../../../../src/broker/exchange-types/index.js';
import { EMPTY_TABLE } from '../../../../src/types/field-table.js';
import { S, tbl } from './golden.js';

class Collector implements RouteCollector {
  readonly pushed: BindingDestination[] = [];
  push(destination: BindingDestination): void {
    this.pushed.push(destination);
  }
}

const queue = (name: string): BindingDestination => ({ kind: 'queue', name });

function route(router: DirectRouter, key: string): string[] {
  const out = new Collector();
  router.route(key, undefined, out);
  return out.pushed.map((d) => d.name).sort();
}

describe('direct exchange router', () => {
  // Confirmed against RabbitMQ 3.10.8 by test/integration/differential-routing.test.ts.
  const KEYS = ['', 'a', 'A', 'a.b', 'a ', ' a', 'é', '#', '*'];
  const router = new DirectRouter();
  for (const k of KEYS) router.add(makeBinding('x', queue(`q[${k}]`), k, EMPTY_TABLE));

  for (const k of KEYS) {
    it(`routes ${JSON.stringify(k)} to exactly the binding with that key`, () => {
      expect(route(router, k)).to.deep.equal([`q[${k}]`]);
    });
  }

  it('has no wildcards and no case folding', () => {
    expect(route(router, 'a.c')).to.deep.equal([]);
    expect(route(router, 'B')).to.deep.equal([]);
    expect(route(router, 'a.b.')).to.deep.equal([]);
  });

  it('pushes a destination once per matching binding and removes bindings one at a time', () => {
    const r = new DirectRouter();
    const q = queue('q');
    const plain = makeBinding('x', q, 'k', EMPTY_TABLE);
    const withArgs = makeBinding('x', q, 'k', tbl({ a: S('1') }));
    const other = makeBinding('x', q, 'other', EMPTY_TABLE);
    for (const b of [plain, withArgs, other]) r.add(b);
    expect(r.bindingCount).to.equal(3);
    const out = new Collector();
    r.route('k', undefined, out);
    expect(out.pushed).to.deep.equal([q, q]);
    expect(out.pushed[0]).to.equal(q);
    r.remove(plain);
    expect(route(r, 'k')).to.deep.equal(['q']);
    r.remove(withArgs);
    expect(route(r, 'k')).to.deep.equal([]);
    expect(route(r, 'other')).to.deep.equal(['q']);
    r.remove(withArgs); // already gone: ignored
    expect(r.bindingCount).to.equal(1);
  });

  it('holds 10k bindings on one key and on 10k keys', () => {
    const r = new DirectRouter();
    const sameKey = Array.from({ length: 10_000 }, (_, i) => makeBinding('x', queue(`s${i}`), 'hot', EMPTY_TABLE));
    const ownKey = Array.from({ length: 10_000 }, (_, i) => makeBinding('x', queue(`o${i}`), `k${i}`, EMPTY_TABLE));
    for (const b of [...sameKey, ...ownKey]) r.add(b);
    expect(route(r, 'hot')).to.have.length(10_000);
    expect(route(r, 'k1234')).to.deep.equal(['o1234']);
    for (const b of sameKey.slice(0, 9_999)) r.remove(b);
    expect(route(r, 'hot')).to.deep.equal(['s9999']);
    for (const b of ownKey) r.remove(b);
    expect(r.bindingCount).to.equal(1);
    expect(route(r, 'k1234')).to.deep.equal([]);
  });

  it('is what createRouter makes for "direct"', () => {
    expect(createRouter('direct')).to.be.instanceOf(DirectRouter);
  });
});
