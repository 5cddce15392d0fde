/**
 * Method dispatch for an open channel: each class's handler takes the methods it knows. What none
 * takes is a method a client must not send on a channel: RabbitMQ answers 503 COMMAND_INVALID
 * "unimplemented method" (rabbit_channel's catch-all clause).
 */
import { channelError, commandInvalid, notImplemented } from '../../errors.js';
import { type Method, MethodId } from '../../protocol/generated/methods.js';
import type { Channel } from '../channel.js';
import { handleBasicMethod } from './basic.js';
import { handleConfirmTxMethod } from './confirm-tx.js';
import { handleExchangeMethod } from './exchange.js';
import { handleQueueMethod } from './queue.js';

export function handleMethod(ch: Channel, m: Method, properties: Buffer, body: Buffer): void {
  if (handleBasicMethod(ch, m, properties, body)) return;
  if (handleQueueMethod(ch, m)) return;
  if (handleExchangeMethod(ch, m)) return;
  if (handleConfirmTxMethod(ch, m)) return;
  switch (m.id) {
    case MethodId.ChannelFlow:
      // RabbitMQ acknowledges active=true and refuses a client pausing its own deliveries.
      if (!m.active) throw notImplemented('active=false');
      ch.send({ id: MethodId.ChannelFlowOk, active: true });
      return;
    case MethodId.ChannelOpen:
      throw channelError("second 'channel.open' seen");
    case MethodId.AccessRequest:
      // Access tickets are obsolete; RabbitMQ answers with ticket 1 for old clients.
      ch.send({ id: MethodId.AccessRequestOk, ticket: 1 });
      return;
    default:
      throw commandInvalid('unimplemented method');
  }
}
