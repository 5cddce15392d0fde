/**
 * One AMQP channel: the command assembler in front, then the channel's own state: consumers, the
 * unacked deliveries (by delivery tag), prefetch credit, publisher confirms and transactions. Method
 * handlers (handlers/*.ts) translate methods into calls on the virtual host; this file owns delivery,
 * acknowledgement and closing.
 */
import type { Logger } from 'winston';
import type { ConnectionOwner } from '../broker/consumer.js';
import type { Message, QueueEntry } from '../broker/message.js';
import type { Queue } from '../broker/queue.js';
import type { VirtualHost } from '../broker/vhost.js';
import { AmqpError, preconditionFailed } from '../errors.js';
import { ClassId } from '../protocol/generated/constants.js';
import {
  type BasicDeliverArgs, type Method, MethodId, encodeBasicDeliver, sizeBasicDeliver, expectsReply,
} from '../protocol/generated/methods.js';
import type { FrameWriter } from '../protocol/frame-writer.js';
import { CommandAssembler } from './command-assembler.js';
import type { ChannelConsumer } from './channel-consumer.js';
import { handleMethod } from './handlers/index.js';

/** What a channel needs from its connection. */
export interface ChannelHost {
  readonly vhost: VirtualHost;
  readonly writer: FrameWriter;
  readonly username: string;
  readonly owner: ConnectionOwner;
  readonly consumerCancelNotify: boolean;
  readonly maxMessageSize: number;
  readonly log: Logger;
  /** Whether deliveries may be written now (socket draining, outbound buffer below its mark). */
  canDeliver(): boolean;
  /** Something was written: flush at the end of this tick. */
  wrote(): void;
  /** This channel has confirms to send when the tick's writes are flushed. */
  confirmsPending(channel: Channel): void;
  /** The channel is gone (close-ok exchanged): its number may be reused. */
  released(channel: Channel): void;
}

/** A delivery awaiting ack. */
export class Unacked {
  constructor(
    readonly tag: number,
    readonly queue: Queue,
    readonly entry: QueueEntry,
    readonly consumer: ChannelConsumer | null,
  ) {}
}

export type ChannelState = 'open' | 'closing' | 'closed';

/** A transaction's held work (tx.select): applied on commit, dropped on rollback. */
export interface TxPublish {
  readonly exchange: string;
  readonly mandatory: boolean;
  readonly message: Message;
}
export type TxAck = { readonly requeue: boolean | null; readonly items: readonly Unacked[] };

export class Channel {
  state: ChannelState = 'open';
  readonly assembler: CommandAssembler;
  readonly consumers = new Map<string, ChannelConsumer>();
  readonly unacked = new Map<number, Unacked>();
  /** basic.qos prefetch-count for consumers created from now on (global=false). */
  consumerPrefetch = 0;
  /** basic.qos prefetch-count shared by the channel (global=true); 0 = unlimited. */
  channelPrefetch = 0;
  /** Most recently declared queue: the `''` queue-name shortcut (RabbitMQ). */
  lastQueue = '';
  confirmMode = false;
  tx: { publishes: TxPublish[]; acks: TxAck[] } | null = null;
  /** The channel's direct reply-to consumer: its tag and the routing key replies come back with. */
  directReply: { readonly tag: string; readonly key: string } | null = null;

  private deliveryTag = 0;
  private publishSeq = 0;
  /** A run of publish sequence numbers confirmed but not yet acked on the wire: [ackFrom, ackTo]. */
  private ackFrom = 0;
  private ackTo = 0;
  /**
   * Confirms held until the store has written them: every sequence number up to heldTo (once one
   * publish waits for the disk, later ones wait behind it so confirms stay in order).
   */
  private heldTo = 0;
  /** Held publishes the broker refused: nacked, not acked, when their turn comes. */
  private heldNacks: number[] = [];
  /** An afterCommit callback is registered for this channel. */
  private commitWaiting = false;
  private readonly deliverArgs: { -readonly [K in keyof BasicDeliverArgs]: BasicDeliverArgs[K] } = {
    consumerTag: '', deliveryTag: 0, redelivered: false, exchange: '', routingKey: '',
  };

  constructor(
    readonly host: ChannelHost,
    readonly number: number,
    readonly log: Logger,
  ) {
    this.assembler = new CommandAssembler(host.maxMessageSize);
  }

  get vhost(): VirtualHost {
    return this.host.vhost;
  }

  /** Send a method on this channel. */
  send(m: Method): void {
    this.host.writer.writeMethod(this.number, m);
    this.host.wrote();
  }

  /** Send the reply to a synchronous method unless the client asked for nowait. */
  reply(request: Method, m: Method): void {
    if (expectsReply(request)) this.send(m);
  }

  /** A complete command from the assembler. */
  dispatch(method: Method, properties: Buffer, body: Buffer): void {
    handleMethod(this, method, properties, body);
  }

  // ------------------------------------------------------------------ delivery

  deliveryAllowed(): boolean {
    return this.state === 'open' && this.host.canDeliver();
  }

  channelCreditLeft(): boolean {
    return this.channelPrefetch === 0 || this.unacked.size < this.channelPrefetch;
  }

  deliver(consumer: ChannelConsumer, queue: Queue, entry: QueueEntry): void {
    const tag = ++this.deliveryTag;
    if (!consumer.noAck) {
      this.unacked.set(tag, new Unacked(tag, queue, entry, consumer));
      consumer.unacked++;
    }
    // Queues deliver resident messages only (delivery stops at a paged-out head until it is read back).
    this.writeDeliver(consumer.tag, tag, entry.redelivered, entry.message);
  }

  /** DirectReplyTarget: a reply for this channel's `amq.rabbitmq.reply-to` consumer (always no-ack). */
  deliverReply(message: Message): boolean {
    const reply = this.directReply;
    if (reply === null || this.state !== 'open') return false;
    this.writeDeliver(reply.tag, ++this.deliveryTag, false, message);
    return true;
  }

  /** basic.deliver + content header + body, encoded straight into the connection's outbound slab. */
  private writeDeliver(consumerTag: string, deliveryTag: number, redelivered: boolean, m: Message): void {
    const a = this.deliverArgs;
    a.consumerTag = consumerTag;
    a.deliveryTag = deliveryTag;
    a.redelivered = redelivered;
    a.exchange = m.exchange;
    a.routingKey = m.routingKey;
    const w = this.host.writer;
    const buf = w.reserve(sizeBasicDeliver(a));
    w.commit(encodeBasicDeliver(buf, w.offset, this.number, a));
    w.writeContent(this.number, ClassId.Basic, m.properties!.raw, m.body!);
    this.host.wrote();
  }

  /** Stop the direct reply-to consumer (basic.cancel, channel close). */
  cancelDirectReply(): void {
    if (this.directReply === null) return;
    this.vhost.directReplies.unregister(this.directReply.key);
    this.directReply = null;
  }

  /** basic.get-ok: the delivery tag for a fetched message, tracked unless no-ack. */
  takeFetched(queue: Queue, entry: QueueEntry, noAck: boolean): number {
    const tag = ++this.deliveryTag;
    if (!noAck) this.unacked.set(tag, new Unacked(tag, queue, entry, null));
    return tag;
  }

  /** Give every consumer on the channel a chance to take messages (credit came back). */
  resumeConsumers(): void {
    if (this.state !== 'open') return;
    for (const c of this.consumers.values()) {
      if (!c.canTake()) continue;
      c.queue.deliverAvailable();
    }
  }

  consumerCancelledByBroker(consumer: ChannelConsumer, _queue: Queue): void {
    if (this.consumers.get(consumer.tag) !== consumer) return;
    this.consumers.delete(consumer.tag);
    // RabbitMQ's consumer cancel notification, for clients that advertise consumer_cancel_notify.
    if (this.host.consumerCancelNotify && this.state === 'open') {
      this.send({ id: MethodId.BasicCancel, consumerTag: consumer.tag, nowait: true });
    }
  }

  // ------------------------------------------------------------------ acknowledgements

  /**
   * Take the deliveries an ack/nack/reject names out of the unacked map, as RabbitMQ's collect_acks:
   * `multiple` with tag 0 means all; otherwise the tag itself must be outstanding (406 if not) and
   * `multiple` takes every outstanding tag up to it.
   */
  collectAcks(tag: number, multiple: boolean): Unacked[] {
    if (multiple && tag === 0) {
      const all = [...this.unacked.values()];
      this.unacked.clear();
      return all;
    }
    const target = this.unacked.get(tag);
    if (target === undefined) throw preconditionFailed(`unknown delivery tag ${tag}`);
    if (!multiple) {
      this.unacked.delete(tag);
      return [target];
    }
    const taken: Unacked[] = [];
    for (const u of this.unacked.values()) {
      if (u.tag > tag) break;
      taken.push(u);
    }
    for (const u of taken) this.unacked.delete(u.tag);
    return taken;
  }

  /** Apply an ack (requeue null), or a nack/reject with or without requeue, to collected deliveries. */
  settle(items: readonly Unacked[], requeue: boolean | null): void {
    if (items.length === 0) return;
    for (const u of items) if (u.consumer !== null) u.consumer.unacked--;
    if (requeue === true) {
      this.requeueGrouped(items);
    } else {
      for (const u of items) {
        if (requeue === null) u.queue.ack(u.entry);
        else u.queue.reject(u.entry);
      }
    }
    this.resumeConsumers();
  }

  /** Put deliveries back in their queues, one requeue call per queue so order is kept. */
  requeueGrouped(items: readonly Unacked[]): void {
    if (items.length === 1) {
      const u = items[0]!;
      u.queue.requeue([u.entry]);
      return;
    }
    const byQueue = new Map<Queue, QueueEntry[]>();
    for (const u of items) {
      let list = byQueue.get(u.queue);
      if (list === undefined) byQueue.set(u.queue, (list = []));
      list.push(u.entry);
    }
    for (const [queue, entries] of byQueue) queue.requeue(entries);
  }

  // ------------------------------------------------------------------ publisher confirms

  /** Next publish sequence number in confirm mode (RabbitMQ numbers from 1). */
  nextPublishSeq(): number {
    return ++this.publishSeq;
  }

  /**
   * The message with this sequence number is routed. `stored`: it went to the store (persistent, to a
   * durable queue), so its ack waits until the write is durable; otherwise it is acked at the end of the
   * tick, coalesced with its neighbours.
   */
  confirm(seq: number, stored: boolean): void {
    if (stored || this.heldTo !== 0) {
      this.heldTo = seq;
    } else {
      if (this.ackFrom === 0) this.ackFrom = seq;
      this.ackTo = seq;
    }
    this.host.confirmsPending(this);
  }

  /**
   * The broker could not take the message (a queue refused it): nack, keeping wire order. When nothing
   * is held every earlier sequence number is settled by then, so RabbitMQ's multiple=true, requeue=true
   * form is exact.
   */
  rejectPublish(seq: number): void {
    if (this.heldTo !== 0) {
      this.heldTo = seq;
      this.heldNacks.push(seq);
      this.host.confirmsPending(this);
      return;
    }
    this.flushConfirms();
    this.send({ id: MethodId.BasicNack, deliveryTag: seq, multiple: true, requeue: true });
  }

  /** Called by the connection before it flushes the tick's writes. */
  flushConfirms(): void {
    if (this.ackTo !== 0) {
      const multiple = this.ackTo !== this.ackFrom;
      const tag = this.ackTo;
      this.ackFrom = 0;
      this.ackTo = 0;
      if (this.state === 'open') this.send({ id: MethodId.BasicAck, deliveryTag: tag, multiple });
    }
    if (this.heldTo !== 0 && !this.commitWaiting) this.waitForCommit();
  }

  /** One callback per channel per group commit: everything held so far is durable when it runs. */
  private waitForCommit(): void {
    const persistence = this.vhost.persistence;
    const upTo = this.heldTo;
    if (persistence === null) {
      this.releaseHeld(upTo, null);
      return;
    }
    this.commitWaiting = true;
    persistence.afterCommit((err) => {
      this.commitWaiting = false;
      this.releaseHeld(upTo, err);
      this.host.wrote();
    });
  }

  private releaseHeld(upTo: number, err: Error | null): void {
    if (this.heldTo === upTo) this.heldTo = 0;
    if (this.state !== 'open') {
      this.heldNacks = [];
      return;
    }
    // A failed write: the broker cannot vouch for these messages (basic.nack, RabbitMQ's confirm docs).
    let acked = 0;
    const nacks = this.heldNacks.filter((n) => n <= upTo);
    this.heldNacks = this.heldNacks.filter((n) => n > upTo);
    for (const n of nacks) {
      if (n - 1 > acked) this.sendConfirm(n - 1, err !== null);
      this.send({ id: MethodId.BasicNack, deliveryTag: n, multiple: false, requeue: true });
      acked = n;
    }
    if (upTo > acked) this.sendConfirm(upTo, err !== null);
    if (this.heldTo !== 0) this.waitForCommit();
  }

  /** ack (or nack) every sequence number up to `tag` not yet confirmed. */
  private sendConfirm(tag: number, failed: boolean): void {
    this.send(failed
      ? { id: MethodId.BasicNack, deliveryTag: tag, multiple: true, requeue: true }
      : { id: MethodId.BasicAck, deliveryTag: tag, multiple: true });
  }

  // ------------------------------------------------------------------ closing

  /**
   * A soft error on this channel: release everything and send channel.close; the client answers
   * close-ok, after which the number is free. Hard errors are rethrown to the connection.
   */
  fail(error: AmqpError, method: Method | undefined): void {
    if (error.isHard) throw error;
    if (method !== undefined && error.classId === 0) {
      error.classId = method.id >>> 16;
      error.methodId = method.id & 0xffff;
    }
    this.log.warn(`channel error: ${error.replyText}`, { channel: this.number, replyCode: error.replyCode });
    this.flushConfirms();
    this.teardown();
    this.state = 'closing';
    this.host.writer.writeMethod(this.number, {
      id: MethodId.ChannelClose, replyCode: error.replyCode, replyText: error.replyText,
      classId: error.classId, methodId: error.methodId,
    });
    this.host.wrote();
  }

  /** The client closed the channel: release everything and answer close-ok. */
  closeByClient(): void {
    this.flushConfirms();
    this.teardown();
    this.send({ id: MethodId.ChannelCloseOk });
    this.state = 'closed';
    this.host.released(this);
  }

  /** close-ok for our channel.close. */
  closeOkReceived(): void {
    this.state = 'closed';
    this.host.released(this);
  }

  /**
   * Release the channel's hold on the broker: consumers cancelled (which may auto-delete queues) and
   * unacked deliveries requeued in order (RabbitMQ does both when a channel closes).
   */
  teardown(): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.assembler.reset();
    this.cancelDirectReply();
    const consumers = [...this.consumers.values()];
    this.consumers.clear();
    const unacked = [...this.unacked.values()];
    this.unacked.clear();
    if (this.tx !== null) {
      // Acks held in an open transaction are rolled back: those deliveries are unacked again.
      for (const held of this.tx.acks) unacked.push(...held.items);
      this.tx = null;
      unacked.sort((a, b) => a.tag - b.tag);
    }
    for (const u of unacked) if (u.consumer !== null) u.consumer.unacked--;
    // Consumers first, so requeued messages go straight to the queue's other consumers.
    for (const c of consumers) c.queue.removeConsumer(c);
    if (unacked.length > 0) this.requeueGrouped(unacked);
  }
}
