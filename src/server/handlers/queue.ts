/** queue.declare / bind / unbind / purge / delete (AMQP 0-9-1 §1.7). */
import { type Method, MethodId } from '../../protocol/generated/methods.js';
import { DIRECT_REPLY_QUEUE } from '../../broker/direct-reply.js';
import type { Channel } from '../channel.js';
import { expandQueueName, expandRoutingKey, stripCrLf } from './queue-names.js';

export function handleQueueMethod(ch: Channel, m: Method): boolean {
  const vhost = ch.vhost;
  const owner = ch.host.owner;
  switch (m.id) {
    case MethodId.QueueDeclare: {
      if (m.passive && m.queue === DIRECT_REPLY_QUEUE) {
        // The direct reply-to pseudo-queue always "exists" (RabbitMQ answers a passive declare of it).
        ch.reply(m, { id: MethodId.QueueDeclareOk, queue: m.queue, messageCount: 0, consumerCount: 0 });
        return true;
      }
      const { queue } = vhost.declareQueue({ ...m, queue: stripCrLf(m.queue) }, owner);
      ch.lastQueue = queue.name;
      ch.reply(m, {
        id: MethodId.QueueDeclareOk, queue: queue.name,
        messageCount: queue.messageCount, consumerCount: queue.consumerCount,
      });
      return true;
    }
    case MethodId.QueueBind:
      vhost.bindQueue({
        queue: stripCrLf(expandQueueName(ch, m.queue)), exchange: stripCrLf(m.exchange),
        routingKey: expandRoutingKey(ch, m.queue, m.routingKey), arguments: m.arguments,
      }, owner);
      ch.reply(m, { id: MethodId.QueueBindOk });
      return true;
    case MethodId.QueueUnbind:
      vhost.unbindQueue({
        queue: stripCrLf(expandQueueName(ch, m.queue)), exchange: stripCrLf(m.exchange),
        routingKey: expandRoutingKey(ch, m.queue, m.routingKey), arguments: m.arguments,
      });
      ch.send({ id: MethodId.QueueUnbindOk });
      return true;
    case MethodId.QueuePurge: {
      const count = vhost.purgeQueue(expandQueueName(ch, m.queue), owner);
      ch.reply(m, { id: MethodId.QueuePurgeOk, messageCount: count });
      return true;
    }
    case MethodId.QueueDelete: {
      const queue = vhost.queueToDelete({ queue: stripCrLf(expandQueueName(ch, m.queue)), ifUnused: m.ifUnused, ifEmpty: m.ifEmpty }, owner);
      // delete-ok first, then the consumers' basic.cancel (RabbitMQ's queue process notifies their channels
      // after the deleting channel has replied); py-amqp raises ConsumerCancelled out of queue_delete otherwise.
      ch.reply(m, { id: MethodId.QueueDeleteOk, messageCount: queue === undefined ? 0 : queue.messageCount });
      if (queue !== undefined) vhost.removeQueueUnchecked(queue);
      return true;
    }
    default:
      return false;
  }
}
