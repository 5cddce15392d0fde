/** exchange.declare / delete / bind / unbind (AMQP 0-9-1 §1.6, RabbitMQ's exchange.bind extension). */
import { type Method, MethodId } from '../../protocol/generated/methods.js';
import type { ExchangeBindCommand } from '../../broker/vhost.js';
import type { Channel } from '../channel.js';
import { stripCrLf } from './queue-names.js';

export function handleExchangeMethod(ch: Channel, m: Method): boolean {
  switch (m.id) {
    case MethodId.ExchangeDeclare:
      ch.vhost.declareExchange({ ...m, exchange: stripCrLf(m.exchange) });
      ch.reply(m, { id: MethodId.ExchangeDeclareOk });
      return true;
    case MethodId.ExchangeDelete:
      ch.vhost.deleteExchange({ exchange: stripCrLf(m.exchange), ifUnused: m.ifUnused });
      ch.reply(m, { id: MethodId.ExchangeDeleteOk });
      return true;
    case MethodId.ExchangeBind:
      ch.vhost.bindExchange(strippedBind(m));
      ch.reply(m, { id: MethodId.ExchangeBindOk });
      return true;
    case MethodId.ExchangeUnbind:
      ch.vhost.unbindExchange(strippedBind(m));
      ch.reply(m, { id: MethodId.ExchangeUnbindOk });
      return true;
    default:
      return false;
  }
}

function strippedBind(m: ExchangeBindCommand): ExchangeBindCommand {
  return { destination: stripCrLf(m.destination), source: stripCrLf(m.source), routingKey: m.routingKey, arguments: m.arguments };
}
