/**
 * Fanout exchange (AMQP 0-9-1 §3.1.3.2; rabbit_exchange_type_fanout): every binding matches,
 * whatever its key and arguments.
 */
import type { FieldTable } from '../../types/field-table.js';
import { type Binding, BindingList } from '../binding.js';
import type { ExchangeRouter, RouteCollector } from './router.js';

export class FanoutRouter implements ExchangeRouter {
  private readonly list = new BindingList();

  get bindingCount(): number {
    return this.list.length;
  }

  add(b: Binding): void {
    this.list.add(b);
  }

  remove(b: Binding): void {
    this.list.remove(b.identity);
  }

  route(_routingKey: string, _headers: FieldTable | undefined, out: RouteCollector): void {
    const items = this.list.items;
    for (let i = 0; i < items.length; i++) out.push(items[i]!.destination);
  }
}
