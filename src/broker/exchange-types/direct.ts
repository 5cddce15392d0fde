/**
 * Direct exchange (AMQP 0-9-1 §3.1.3.1; rabbit_exchange_type_direct): a binding matches when its key
 * equals the routing key, byte for byte. Indexed by key, so routing is one Map lookup.
 */
import type { FieldTable } from '../../types/field-table.js';
import { type Binding, BindingList } from '../binding.js';
import type { ExchangeRouter, RouteCollector } from './router.js';

export class DirectRouter implements ExchangeRouter {
  private readonly byKey = new Map<string, BindingList>();
  private count = 0;

  get bindingCount(): number {
    return this.count;
  }

  add(b: Binding): void {
    let list = this.byKey.get(b.routingKey);
    if (list === undefined) {
      list = new BindingList();
      this.byKey.set(b.routingKey, list);
    }
    list.add(b);
    this.count++;
  }

  remove(b: Binding): void {
    const list = this.byKey.get(b.routingKey);
    if (list === undefined || list.remove(b.identity) === undefined) return;
    this.count--;
    if (list.length === 0) this.byKey.delete(b.routingKey);
  }

  route(routingKey: string, _headers: FieldTable | undefined, out: RouteCollector): void {
    const list = this.byKey.get(routingKey);
    if (list === undefined) return;
    const items = list.items;
    for (let i = 0; i < items.length; i++) out.push(items[i]!.destination);
  }
}
