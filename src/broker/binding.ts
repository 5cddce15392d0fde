/**
 * A binding: source exchange → destination (queue or exchange), with a routing key and arguments.
 *
 * RabbitMQ 3.10 stores a binding as the record #binding{source, key, destination, args} with the
 * arguments sorted by key (rabbit_binding: rabbit_misc:sort_field_table, top level only), and two
 * bindings are the same only when the whole record is equal: same key with different arguments (or
 * the same values with different type letters) are two bindings. `identity` is a canonical text of
 * exactly that record, so equal bindings have equal identities and the vhost can index them by it.
 */
import type { FieldTable, FieldValue } from '../types/field-table.js';

export type DestinationKind = 'queue' | 'exchange';

export interface BindingDestination {
  readonly kind: DestinationKind;
  readonly name: string;
}

export interface Binding {
  /** Name of the source exchange. */
  readonly source: string;
  /** The destination object itself (the vhost passes its Queue / Exchange): routers push it as is. */
  readonly destination: BindingDestination;
  readonly routingKey: string;
  readonly arguments: FieldTable;
  /** bindingIdentity(source, destination, routingKey, arguments). */
  readonly identity: string;
}

export function makeBinding(
  source: string,
  destination: BindingDestination,
  routingKey: string,
  args: FieldTable,
): Binding {
  return {
    source,
    destination,
    routingKey,
    arguments: args,
    identity: bindingIdentity(source, destination, routingKey, args),
  };
}

/**
 * Canonical, deterministic text of a binding. Every variable-length part is length-prefixed, so no
 * choice of names or keys (dots, NULs, digits) can make two different bindings collide.
 * Top-level arguments are sorted by key (as RabbitMQ sorts them before comparing); nested tables keep
 * their wire order, because RabbitMQ compares those as lists.
 */
export function bindingIdentity(
  source: string,
  destination: BindingDestination,
  routingKey: string,
  args: FieldTable,
): string {
  let s = `${source.length}:${source}${destination.kind === 'queue' ? 'q' : 'e'}${destination.name.length}:${destination.name}${routingKey.length}:${routingKey}`;
  if (args.size === 0) return s;
  const keys = [...args.keys()].sort(compareKeys);
  s += `{${keys.length}`;
  for (const k of keys) s += `,${k.length}:${k}${valueText(args.get(k)!)}`;
  return `${s}}`;
}

/** Byte-order (as Erlang compares binaries) would differ only in ordering, never in equality. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Type letter followed by a self-delimiting text of the value. */
function valueText(v: FieldValue): string {
  switch (v.type) {
    case 't':
      return v.value ? 't1' : 't0';
    case 'b': case 'B': case 's': case 'u': case 'I': case 'i': case 'f': case 'd':
      // String(-0) is '0': OTP 25 (RabbitMQ 3.10's runtime) has 0.0 =:= -0.0.
      return `${v.type}${String(v.value)};`;
    case 'l': case 'T':
      return `${v.type}${v.value.toString()};`;
    case 'D':
      return `D${v.value.scale},${v.value.value};`;
    case 'S': case 'x':
      // latin1 maps each byte to one char, so the byte length prefix delimits it exactly.
      return `${v.type}${v.value.length}:${v.value.toString('latin1')}`;
    case 'A': {
      let s = `A${v.value.length}[`;
      for (const e of v.value) s += valueText(e);
      return `${s}]`;
    }
    case 'F': {
      let s = `F${v.value.size}{`;
      for (const [k, e] of v.value) s += `${k.length}:${k}${valueText(e)}`;
      return `${s}}`;
    }
    case 'V':
      return 'V';
  }
}

/** Past this many entries a BindingList indexes positions in a Map instead of scanning. */
const LINEAR_SCAN_MAX = 8;

/**
 * A dense list of entries keyed by binding identity with O(1) removal (swap with the last), so a
 * fanout with 10k bindings unbinds in constant time. Routers iterate `items` with an index loop,
 * which allocates nothing (a Map iterator would). Removal does not keep order; RabbitMQ promises
 * no order among a message's destinations either.
 */
export class BindingList<T extends { readonly identity: string } = Binding> {
  readonly items: T[] = [];
  /** Position by identity, built once the list outgrows a linear scan. */
  private positions: Map<string, number> | undefined = undefined;

  get length(): number {
    return this.items.length;
  }

  add(item: T): void {
    const items = this.items;
    if (this.positions !== undefined) {
      this.positions.set(item.identity, items.length);
    } else if (items.length >= LINEAR_SCAN_MAX) {
      this.positions = new Map();
      for (let i = 0; i < items.length; i++) this.positions.set(items[i]!.identity, i);
      this.positions.set(item.identity, items.length);
    }
    items.push(item);
  }

  /** Remove the entry with this identity; returns it, or undefined when absent. */
  remove(identity: string): T | undefined {
    const items = this.items;
    let i: number;
    if (this.positions !== undefined) {
      const p = this.positions.get(identity);
      if (p === undefined) return undefined;
      i = p;
      this.positions.delete(identity);
    } else {
      i = -1;
      for (let j = 0; j < items.length; j++) {
        if (items[j]!.identity === identity) { i = j; break; }
      }
      if (i < 0) return undefined;
    }
    const removed = items[i]!;
    const last = items.pop()!;
    if (i < items.length) {
      items[i] = last;
      this.positions?.set(last.identity, i);
    }
    return removed;
  }
}
