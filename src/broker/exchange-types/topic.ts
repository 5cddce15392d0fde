/**
 * Topic exchange (AMQP 0-9-1 §3.1.3.3), exactly as RabbitMQ 3.10's rabbit_exchange_type_topic:
 *
 * - Keys are split on every `.` with empty words kept (split_topic_key/1): `a..b` is [a, "", b],
 *   `a.` is [a, ""], `.` is ["", ""], but the empty key is [] (no words), not [""].
 * - In a binding key the word `*` matches exactly one word (which may be empty) and `#` zero or more
 *   words; any other word, including `a*` or an empty word, matches only itself.
 * - So `#` matches every key including ""; `*` matches one-word keys only (never "", which has no
 *   words, nor "a." or ".", which have two); `*.*` matches "."; the binding key "" matches only "".
 * - A `*` or `#` in a routing key is an ordinary word (it matches `*`, `#`, or itself).
 *
 * Bindings live in a trie built at bind time (one node per word, the `*` and `#` edges kept apart from
 * the literal words), walked once per publish as RabbitMQ's trie_match does. A `#` node reached at
 * word i is walked for every j ≥ i; each `(#-node, j)` pair is walked at most once per publish (a
 * per-node memo of the lowest j done, stamped with the publish epoch), so patterns such as
 * `#.*.#.*.#` cost O(nodes × words) instead of growing combinatorially. Unbinding prunes the nodes it
 * leaves empty, as remove_path_if_empty does.
 */
import type { FieldTable } from '../../types/field-table.js';
import { type Binding, BindingList } from '../binding.js';
import type { ExchangeRouter, RouteCollector } from './router.js';

class TopicNode {
  /** Literal words; `*` and `#` are never keys here. */
  words: Map<string, TopicNode> | undefined = undefined;
  star: TopicNode | undefined = undefined;
  hash: TopicNode | undefined = undefined;
  bindings: BindingList | undefined = undefined;
  /** For a `#` node: the publish epoch of `from`, and the lowest word index walked from in it. */
  epoch = 0;
  from = 0;

  get isEmpty(): boolean {
    return this.bindings === undefined && this.words === undefined && this.star === undefined && this.hash === undefined;
  }

  child(word: string): TopicNode | undefined {
    if (word === '*') return this.star;
    if (word === '#') return this.hash;
    return this.words?.get(word);
  }

  childOrCreate(word: string): TopicNode {
    let next = this.child(word);
    if (next !== undefined) return next;
    next = new TopicNode();
    if (word === '*') this.star = next;
    else if (word === '#') this.hash = next;
    else (this.words ??= new Map()).set(word, next);
    return next;
  }

  removeChild(word: string): void {
    if (word === '*') this.star = undefined;
    else if (word === '#') this.hash = undefined;
    else if (this.words !== undefined) {
      this.words.delete(word);
      if (this.words.size === 0) this.words = undefined;
    }
  }
}

const NO_WORDS: readonly string[] = Object.freeze([]);

/** rabbit_exchange_type_topic:split_topic_key/1: the empty key has no words, not one empty word. */
export function splitTopicKey(key: string): readonly string[] {
  return key === '' ? NO_WORDS : key.split('.');
}

export class TopicRouter implements ExchangeRouter {
  private readonly root = new TopicNode();
  private count = 0;
  /** Incremented per route(); invalidates every node's `#` memo at once. */
  private epoch = 0;

  get bindingCount(): number {
    return this.count;
  }

  /** Number of trie nodes, root included (for tests of pruning). */
  get nodeCount(): number {
    let n = 0;
    const stack: TopicNode[] = [this.root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      n++;
      if (node.words !== undefined) for (const c of node.words.values()) stack.push(c);
      if (node.star !== undefined) stack.push(node.star);
      if (node.hash !== undefined) stack.push(node.hash);
    }
    return n;
  }

  add(b: Binding): void {
    let node = this.root;
    for (const w of splitTopicKey(b.routingKey)) node = node.childOrCreate(w);
    (node.bindings ??= new BindingList()).add(b);
    this.count++;
  }

  remove(b: Binding): void {
    const words = splitTopicKey(b.routingKey);
    const path: TopicNode[] = [this.root];
    let node = this.root;
    for (const w of words) {
      const next = node.child(w);
      if (next === undefined) return;
      path.push(next);
      node = next;
    }
    if (node.bindings === undefined || node.bindings.remove(b.identity) === undefined) return;
    this.count--;
    if (node.bindings.length === 0) node.bindings = undefined;
    // Prune from the leaf up while nodes are left with neither bindings nor children.
    for (let i = words.length; i > 0 && path[i]!.isEmpty; i--) path[i - 1]!.removeChild(words[i - 1]!);
  }

  route(routingKey: string, _headers: FieldTable | undefined, out: RouteCollector): void {
    if (this.count === 0) return;
    this.epoch++;
    this.match(this.root, splitTopicKey(routingKey), 0, out);
  }

  /** trie_match/4: `node` has consumed words[0, i). */
  private match(node: TopicNode, words: readonly string[], i: number, out: RouteCollector): void {
    if (i === words.length) {
      const bindings = node.bindings;
      if (bindings !== undefined) {
        const items = bindings.items;
        for (let k = 0; k < items.length; k++) out.push(items[k]!.destination);
      }
      // A trailing `#` may match zero words.
      if (node.hash !== undefined) this.matchHash(node.hash, words, i, out);
      return;
    }
    if (node.words !== undefined) {
      const next = node.words.get(words[i]!);
      if (next !== undefined) this.match(next, words, i + 1, out);
    }
    if (node.star !== undefined) this.match(node.star, words, i + 1, out);
    if (node.hash !== undefined) this.matchHash(node.hash, words, i, out);
  }

  /** trie_match_skip_any/4: the `#` at `hash` swallows words[i, j) for every j from i to the end. */
  private matchHash(hash: TopicNode, words: readonly string[], i: number, out: RouteCollector): void {
    let last = words.length;
    if (hash.epoch === this.epoch) {
      if (hash.from <= i) return; // every j ≥ from was walked already in this publish
      last = hash.from - 1;
    } else {
      hash.epoch = this.epoch;
    }
    hash.from = i;
    for (let j = i; j <= last; j++) this.match(hash, words, j, out);
  }
}
