import { expect } from 'chai';
import fc from 'fast-check';
import { type BindingDestination, makeBinding } from '../../../../src/broker/binding.js';
import { createRouter, splitTopicKey, TopicRouter, type RouteCollector } from '../../../../src/broker/exchange-types/index.js';
import { EMPTY_TABLE } from '../../../../src/types/field-table.js';
import { S, TOPIC_GOLDEN, TOPIC_GOLDEN_PATTERNS, tbl } from './golden.js';

class Collector implements RouteCollector {
  readonly pushed: BindingDestination[] = [];
  push(destination: BindingDestination): void {
    this.pushed.push(destination);
  }
}

const queue = (name: string): BindingDestination => ({ kind: 'queue', name });

/** Names of the distinct destinations a key reaches. */
function route(router: TopicRouter, key: string): string[] {
  const out = new Collector();
  router.route(key, undefined, out);
  return [...new Set(out.pushed.map((d) => d.name))].sort();
}

/** A router with one queue per pattern, named by the pattern. */
function routerFor(patterns: readonly string[]): TopicRouter {
  const router = new TopicRouter();
  for (const p of patterns) router.add(makeBinding('x', queue(p), p, EMPTY_TABLE));
  return router;
}

/** The definition of topic matching on split words, written as plainly as possible (exponential). */
function referenceMatch(pattern: readonly string[], key: readonly string[]): boolean {
  if (pattern.length === 0) return key.length === 0;
  const [head, ...rest] = pattern;
  if (head === '#') {
    for (let j = 0; j <= key.length; j++) if (referenceMatch(rest, key.slice(j))) return true;
    return false;
  }
  if (key.length === 0) return false;
  return (head === '*' || head === key[0]) && referenceMatch(rest, key.slice(1));
}

describe('topic exchange router', () => {
  describe('splitTopicKey (rabbit_exchange_type_topic:split_topic_key/1)', () => {
    const cases: [string, string[]][] = [
      ['', []],
      ['.', ['', '']],
      ['..', ['', '', '']],
      ['a', ['a']],
      ['a.', ['a', '']],
      ['.a', ['', 'a']],
      ['a..b', ['a', '', 'b']],
      ['a.b.c', ['a', 'b', 'c']],
    ];
    for (const [key, words] of cases) {
      it(`${JSON.stringify(key)} → ${JSON.stringify(words)}`, () => {
        expect(splitTopicKey(key)).to.deep.equal(words);
      });
    }
  });

  describe('golden table (confirmed against RabbitMQ 3.10.8)', () => {
    const router = routerFor(TOPIC_GOLDEN_PATTERNS);
    for (const [key, patterns] of TOPIC_GOLDEN) {
      it(`${JSON.stringify(key)} matches ${patterns.length} of the patterns`, () => {
        expect(route(router, key)).to.deep.equal([...patterns].sort());
      });
    }
  });

  describe('more golden cases', () => {
    const cases: [pattern: string, key: string, match: boolean][] = [
      ['#', '', true],
      ['#', 'a.b.c.d.e', true],
      ['*', '', false],
      ['*', '.', false],
      ['*.*', '.', true],
      ['*.#', '', false],
      ['*.#', 'a', true],
      ['#.*', 'a', true],
      ['#.#', '', true],
      ['#.#', 'a.b', true],
      ['a.#.b', 'a.b', true],
      ['a.#.b', 'a.x.y.z.b', true],
      ['a.#.b', 'a.b.c', false],
      ['a.#.b', 'a.b.b', true],
      ['a.*.#', 'a', false],
      ['a.*.#', 'a.b', true],
      ['a.*.#', 'a.b.c.d', true],
      ['a.#', 'a', true],
      ['a.#', 'a.', true],
      ['a.#', 'ab', false],
      ['a.', 'a', false],
      ['a.', 'a.', true],
      ['.a', 'a', false],
      ['a..b', 'a.b', false],
      ['a..b', 'a..b', true],
      ['a.*.b', 'a..b', true],
      ['', '', true],
      ['', '.', false],
      ['', 'a', false],
      ['.', '.', true],
      ['.', '', false],
      ['#.', 'a.b.', true],
      ['#.', 'a.b', false],
      ['.#', '.a.b', true],
      ['.#', '', false],
      ['a*', 'ab', false],
      ['a*', 'a*', true],
      ['#a', 'ba', false],
      ['*', '#', true],
      ['a', '*', false],
      ['a.#.#.b', 'a.b', true],
      ['#.*.#', '', false],
      ['#.*.#', 'a', true],
      ['*.#.*', 'a', false],
      ['*.#.*', 'a.b', true],
      ['é.#', 'é.x', true],
      ['A', 'a', false],
    ];
    for (const [pattern, key, match] of cases) {
      it(`${JSON.stringify(pattern)} ${match ? 'matches' : 'does not match'} ${JSON.stringify(key)}`, () => {
        expect(route(routerFor([pattern]), key)).to.deep.equal(match ? [pattern] : []);
      });
    }
  });

  it('agrees with the plain definition on random patterns and keys (wildcards and empty words)', () => {
    const pattern = fc.array(fc.constantFrom('a', 'b', '', '*', '#'), { maxLength: 6 }).map((ws) => ws.join('.'));
    const key = fc.array(fc.constantFrom('a', 'b', 'c', ''), { maxLength: 7 }).map((ws) => ws.join('.'));
    fc.assert(
      fc.property(fc.uniqueArray(pattern, { minLength: 1, maxLength: 12 }), fc.array(key, { maxLength: 12 }), (patterns, keys) => {
        const router = routerFor(patterns);
        for (const k of keys) {
          const expected = patterns.filter((p) => referenceMatch(splitTopicKey(p), splitTopicKey(k))).sort();
          expect(route(router, k)).to.deep.equal(expected);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('pushes a destination once per matching binding (the caller de-duplicates)', () => {
    const router = new TopicRouter();
    const q = queue('q');
    router.add(makeBinding('x', q, 'a.*', EMPTY_TABLE));
    router.add(makeBinding('x', q, '#', EMPTY_TABLE));
    router.add(makeBinding('x', q, 'b.*', EMPTY_TABLE));
    router.add(makeBinding('x', q, 'a.*', tbl({ k: S('v') }))); // same key, other arguments: another binding
    const out = new Collector();
    router.route('a.b', undefined, out);
    expect(out.pushed).to.have.length(3);
    expect(out.pushed.every((d) => d === q)).to.equal(true);
  });

  it('pushes the very destination object it was given', () => {
    const router = new TopicRouter();
    const q = queue('q');
    router.add(makeBinding('x', q, 'a', EMPTY_TABLE));
    const out = new Collector();
    router.route('a', undefined, out);
    expect(out.pushed[0]).to.equal(q);
  });

  describe('unbind', () => {
    it('removes only the given binding and prunes the nodes it leaves empty', () => {
      const router = new TopicRouter();
      expect(router.nodeCount).to.equal(1);
      const q1 = makeBinding('x', queue('q1'), 'a.b.c', EMPTY_TABLE);
      const q2 = makeBinding('x', queue('q2'), 'a.#', EMPTY_TABLE);
      const q3 = makeBinding('x', queue('q3'), 'a.b.c', tbl({ k: S('v') }));
      router.add(q1);
      router.add(q2);
      router.add(q3);
      expect(router.nodeCount).to.equal(5); // root, a, a.b, a.b.c, a.#
      expect(router.bindingCount).to.equal(3);

      router.remove(q1);
      expect(route(router, 'a.b.c')).to.deep.equal(['q2', 'q3']);
      expect(router.nodeCount).to.equal(5); // a.b.c still holds q3

      router.remove(q3);
      expect(route(router, 'a.b.c')).to.deep.equal(['q2']);
      expect(router.nodeCount).to.equal(3); // b and c pruned, a kept for a.#

      router.remove(q2);
      expect(route(router, 'a.b.c')).to.deep.equal([]);
      expect(router.nodeCount).to.equal(1);
      expect(router.bindingCount).to.equal(0);
    });

    it('prunes wildcard edges and keeps siblings', () => {
      const router = new TopicRouter();
      const star = makeBinding('x', queue('star'), '*.x', EMPTY_TABLE);
      const hash = makeBinding('x', queue('hash'), '#.x', EMPTY_TABLE);
      const lit = makeBinding('x', queue('lit'), 'a.x', EMPTY_TABLE);
      for (const bnd of [star, hash, lit]) router.add(bnd);
      expect(router.nodeCount).to.equal(7);
      router.remove(hash);
      expect(router.nodeCount).to.equal(5);
      expect(route(router, 'a.x')).to.deep.equal(['lit', 'star']);
      router.remove(star);
      expect(router.nodeCount).to.equal(3);
      expect(route(router, 'a.x')).to.deep.equal(['lit']);
      expect(route(router, 'b.x')).to.deep.equal([]);
    });

    it('ignores a binding that is not there', () => {
      const router = new TopicRouter();
      router.add(makeBinding('x', queue('q'), 'a.b', EMPTY_TABLE));
      router.remove(makeBinding('x', queue('q'), 'a.c', EMPTY_TABLE));
      router.remove(makeBinding('x', queue('other'), 'a.b', EMPTY_TABLE));
      router.remove(makeBinding('x', queue('q'), 'a', EMPTY_TABLE));
      expect(router.bindingCount).to.equal(1);
      expect(router.nodeCount).to.equal(3);
      expect(route(router, 'a.b')).to.deep.equal(['q']);
    });

    it('empties the trie after binding and unbinding 10k keys', () => {
      const router = new TopicRouter();
      const bindings = Array.from({ length: 10_000 }, (_, i) => makeBinding('x', queue(`q${i}`), `s.${i % 97}.${i}.#`, EMPTY_TABLE));
      for (const bnd of bindings) router.add(bnd);
      expect(router.bindingCount).to.equal(10_000);
      for (const bnd of bindings) router.remove(bnd);
      expect(router.bindingCount).to.equal(0);
      expect(router.nodeCount).to.equal(1);
    });
  });

  it('routes among 10k bindings by walking the trie, not the bindings', () => {
    const router = new TopicRouter();
    for (let i = 0; i < 10_000; i++) {
      router.add(makeBinding('x', queue(`exact${i}`), `stock.${i}.price`, EMPTY_TABLE));
      router.add(makeBinding('x', queue(`star${i}`), `*.${i}.volume`, EMPTY_TABLE));
    }
    router.add(makeBinding('x', queue('all'), '#', EMPTY_TABLE));
    expect(router.bindingCount).to.equal(20_001);
    for (let n = 0; n < 20_000; n++) {
      const i = n % 10_000;
      expect(route(router, `stock.${i}.price`)).to.deep.equal(['all', `exact${i}`]);
    }
    expect(route(router, 'x.42.volume')).to.deep.equal(['all', 'star42']);
    expect(route(router, 'stock.10000.price')).to.deep.equal(['all']);
  });

  it('stays polynomial on patterns with many # (each #-node is walked once per word index)', () => {
    const router = new TopicRouter();
    const pattern = Array.from({ length: 20 }, () => '#.*').join('.') + '.#.z';
    router.add(makeBinding('x', queue('deep'), pattern, EMPTY_TABLE));
    const words = Array.from({ length: 120 }, () => 'a');
    // A naive backtracking walk would try C(120, 20) ways to place the stars here.
    expect(route(router, words.join('.'))).to.deep.equal([]);
    expect(route(router, [...words, 'z'].join('.'))).to.deep.equal(['deep']);
    expect(route(router, words.slice(0, 19).join('.') + '.z')).to.deep.equal([]);
    expect(route(router, words.slice(0, 20).join('.') + '.z')).to.deep.equal(['deep']);
  });

  it('is what createRouter makes for "topic"', () => {
    expect(createRouter('topic')).to.be.instanceOf(TopicRouter);
  });
});
