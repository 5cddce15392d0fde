/** The basic class: qos, consume, cancel, publish, get, ack, nack, reject, recover (AMQP 0-9-1 §1.8). */
import { DIRECT_REPLY_QUEUE } from '../../broker/direct-reply.js';
import { Message } from '../../broker/message.js';
import { generateName } from '../../broker/names.js';
import { HEAD_PAGED } from '../../broker/queue.js';
import { checkConsumeArguments } from '../../broker/queue-arguments.js';
import { PublishOutcome } from '../../broker/vhost.js';
import { accessRefused, notAllowed, notImplemented, preconditionFailed } from '../../errors.js';
import { ClassId, ReplyCode } from '../../protocol/generated/constants.js';
import {
  type BasicConsume, type BasicGet, type BasicPublish, type Method, MethodId,
} from '../../protocol/generated/methods.js';
import { fieldNumber } from '../../types/field-table.js';
import type { Channel } from '../channel.js';
import { ChannelConsumer } from '../channel-consumer.js';
import { ContentProperties } from '../content-properties.js';
import { SuspendInput } from '../suspend.js';
import { expandQueueName } from './queue-names.js';

export function handleBasicMethod(ch: Channel, m: Method, properties: Buffer, body: Buffer): boolean {
  switch (m.id) {
    case MethodId.BasicPublish:
      publish(ch, m, properties, body);
      return true;
    case MethodId.BasicAck:
      acknowledge(ch, m.deliveryTag, m.multiple, null);
      return true;
    case MethodId.BasicNack:
      acknowledge(ch, m.deliveryTag, m.multiple, m.requeue);
      return true;
    case MethodId.BasicReject:
      acknowledge(ch, m.deliveryTag, false, m.requeue);
      return true;
    case MethodId.BasicQos:
      // RabbitMQ refuses a byte-based prefetch window.
      if (m.prefetchSize !== 0) throw notImplemented(`prefetch_size!=0 (${m.prefetchSize})`);
      if (m.global) {
        ch.channelPrefetch = m.prefetchCount;
      } else {
        ch.consumerPrefetch = m.prefetchCount;
        // rabbit_channel (basic.qos global=false) also lifts the channel-wide limit (unlimit_prefetch).
        ch.channelPrefetch = 0;
      }
      ch.send({ id: MethodId.BasicQosOk });
      ch.resumeConsumers();
      return true;
    case MethodId.BasicConsume:
      consume(ch, m);
      return true;
    case MethodId.BasicCancel: {
      if (ch.directReply !== null && ch.directReply.tag === m.consumerTag) ch.cancelDirectReply();
      const consumer = ch.consumers.get(m.consumerTag);
      // Cancelling an unknown tag is not an error in RabbitMQ: cancel-ok all the same.
      if (consumer !== undefined) ch.consumers.delete(m.consumerTag);
      ch.reply(m, { id: MethodId.BasicCancelOk, consumerTag: m.consumerTag });
      if (consumer !== undefined) consumer.queue.removeConsumer(consumer);
      return true;
    }
    case MethodId.BasicGet:
      get(ch, m);
      return true;
    case MethodId.BasicRecover:
    case MethodId.BasicRecoverAsync: {
      // RabbitMQ implements only requeue=true: redelivering to the original consumer is not supported.
      if (!m.requeue) throw notImplemented('requeue=false');
      const items = [...ch.unacked.values()];
      ch.unacked.clear();
      ch.settle(items, true);
      if (m.id === MethodId.BasicRecover) ch.send({ id: MethodId.BasicRecoverOk });
      return true;
    }
    default:
      return false;
  }
}

function publish(ch: Channel, m: BasicPublish, raw: Buffer, body: Buffer): void {
  if (m.immediate) throw notImplemented('immediate=true');
  const vhost = ch.vhost;
  const exchange = vhost.exchangeOrDie(m.exchange);
  if (exchange.internal) throw accessRefused(`cannot publish to internal ${exchange.describe()}`);
  let props = new ContentProperties(raw);
  checkExpiration(props.expiration);
  if (props.values.replyTo === DIRECT_REPLY_QUEUE) {
    // Direct reply-to: the reply address becomes this channel's reply key (RabbitMQ rewrites it too).
    if (ch.directReply === null) throw preconditionFailed('fast reply consumer does not exist');
    props = props.withReplyTo(ch.directReply.key);
  }
  const userId = props.userId;
  if (userId !== undefined && userId !== ch.host.username) {
    throw preconditionFailed(`user_id property set to '${userId}' but authenticated user was '${ch.host.username}'`);
  }
  const message = new Message(m.exchange, m.routingKey, props, body);
  if (ch.tx !== null) {
    ch.tx.publishes.push({ exchange: m.exchange, mandatory: m.mandatory, message });
    return;
  }
  const seq = ch.confirmMode ? ch.nextPublishSeq() : 0;
  routePublished(ch, m.exchange, m.mandatory, message, seq);
}

/** rabbit_basic: `expiration` must be a non-negative integer in a string. */
function checkExpiration(expiration: string | undefined): void {
  if (expiration === undefined) return;
  if (!/^-?\d+$/.test(expiration)) throw preconditionFailed(`invalid expiration '${expiration}': no_integer`);
  const n = Number(expiration);
  if (n < 0) throw preconditionFailed(`invalid expiration '${expiration}': {value_negative,${n}}`);
}

/** Route one message and answer for it: basic.return when mandatory and unroutable, then the confirm. */
export function routePublished(ch: Channel, exchange: string, mandatory: boolean, message: Message, seq: number): void {
  const outcome = ch.vhost.publish(exchange, message);
  if (outcome === PublishOutcome.Unroutable && mandatory) {
    // basic.return goes out before the confirm for the same message (RabbitMQ's ordering guarantee).
    ch.host.writer.writeMethod(ch.number, {
      id: MethodId.BasicReturn, replyCode: ReplyCode.NoRoute, replyText: 'NO_ROUTE',
      exchange, routingKey: message.routingKey,
    });
    // Unroutable: no queue took it, so it is the resident message just published.
    ch.host.writer.writeContent(ch.number, ClassId.Basic, message.properties!.raw, message.body!);
    ch.host.wrote();
  }
  if (seq !== 0) {
    if (outcome === PublishOutcome.Rejected) ch.rejectPublish(seq);
    else ch.confirm(seq, message.storeId !== 0);
  }
}

function consume(ch: Channel, m: BasicConsume): void {
  const tag = m.consumerTag === '' ? generateName('amq.ctag-') : m.consumerTag;
  if (ch.consumers.has(tag) || ch.directReply?.tag === tag) throw notAllowed(`attempt to reuse consumer tag '${tag}'`);
  if (m.queue === DIRECT_REPLY_QUEUE) return consumeDirectReply(ch, m, tag);
  const queue = ch.vhost.queueForUse(expandQueueName(ch, m.queue), ch.host.owner);
  checkConsumeArguments(m.arguments, queue.describe());
  if (queue.consumers.some((c) => c.exclusive) || (m.exclusive && queue.consumerCount > 0)) {
    throw accessRefused(`${queue.describe()} in exclusive use`);
  }
  const priority = fieldNumber(m.arguments.get('x-priority')) ?? 0;
  const consumer = new ChannelConsumer(ch, queue, tag, m.noAck, m.exclusive, m.arguments, priority, ch.consumerPrefetch);
  ch.consumers.set(tag, consumer);
  // consume-ok goes out before the first delivery.
  ch.reply(m, { id: MethodId.BasicConsumeOk, consumerTag: tag });
  queue.addConsumer(consumer);
}

/** A consumer on the `amq.rabbitmq.reply-to` pseudo-queue (RabbitMQ's direct reply-to). */
function consumeDirectReply(ch: Channel, m: BasicConsume, tag: string): void {
  if (!m.noAck) throw preconditionFailed('reply consumer cannot acknowledge');
  if (ch.directReply !== null) throw preconditionFailed('reply consumer already set');
  ch.directReply = { tag, key: ch.vhost.directReplies.register(ch) };
  ch.reply(m, { id: MethodId.BasicConsumeOk, consumerTag: tag });
}

function get(ch: Channel, m: BasicGet): void {
  const queue = ch.vhost.queueForUse(expandQueueName(ch, m.queue), ch.host.owner);
  const entry = queue.get(m.noAck);
  if (entry === HEAD_PAGED) {
    // The head message is on disk, being read back: it is there, so get-empty would be wrong. This
    // connection's input waits until it is back, then the get runs again (connection.ts).
    throw new SuspendInput((resume) => queue.whenHeadReadable(resume), () => get(ch, m));
  }
  if (entry === undefined) {
    ch.send({ id: MethodId.BasicGetEmpty, clusterId: '' });
    return;
  }
  const tag = ch.takeFetched(queue, entry, m.noAck);
  const message = entry.message;
  ch.host.writer.writeMethod(ch.number, {
    id: MethodId.BasicGetOk, deliveryTag: tag, redelivered: entry.redelivered,
    exchange: message.exchange, routingKey: message.routingKey, messageCount: queue.messageCount,
  });
  // Queue.get hands out resident heads only.
  ch.host.writer.writeContent(ch.number, ClassId.Basic, message.properties!.raw, message.body!);
  ch.host.wrote();
}

/** ack (requeue null), nack and reject: collected now, applied now or at tx.commit. */
function acknowledge(ch: Channel, tag: number, multiple: boolean, requeue: boolean | null): void {
  const items = ch.collectAcks(tag, multiple);
  if (ch.tx !== null) ch.tx.acks.push({ requeue, items });
  else ch.settle(items, requeue);
}
