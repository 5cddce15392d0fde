/**
 * connection.start server-properties: product identification and the capabilities Warren implements
 * (RabbitMQ clients switch features on from this table, so only what works is advertised).
 *
 * Warren introduces itself as the RabbitMQ release whose behaviour it reproduces: clients and their test
 * suites gate RabbitMQ's extensions on `product` (amqp091-go's integration suite runs its TTL, nack and
 * recover tests only when it is "RabbitMQ", and leaks a connection otherwise), and Warren implements
 * those extensions. `information` and `warren_version` say which broker it really is.
 */
import { type FieldTable, field } from '../types/field-table.js';
import type { ServerContext } from './server-context.js';

/** The RabbitMQ release whose wire behaviour Warren follows (its recorded differential scenarios). */
export const RABBITMQ_COMPATIBLE_VERSION = '3.10.8';

export function serverProperties(context: ServerContext): FieldTable {
  const capabilities = new Map([
    ['publisher_confirms', field.bool(true)],
    ['exchange_exchange_bindings', field.bool(true)],
    ['basic.nack', field.bool(true)],
    ['consumer_cancel_notify', field.bool(true)],
    ['consumer_priorities', field.bool(true)],
    ['authentication_failure_close', field.bool(true)],
    ['per_consumer_qos', field.bool(true)],
    ['direct_reply_to', field.bool(true)],
  ]);
  return new Map([
    ['capabilities', field.table(capabilities)],
    ['cluster_name', field.str(`warren@${context.config.host}`)],
    ['copyright', field.str('Copyright (c) the Warren authors')],
    [
      'information',
      field.str(
        `Warren ${context.version}: an AMQP 0-9-1 broker for development and tests that behaves as RabbitMQ ` +
          `${RABBITMQ_COMPATIBLE_VERSION}. Licensed under MIT.`,
      ),
    ],
    ['platform', field.str(`Node.js ${process.version}`)],
    ['product', field.str('RabbitMQ')],
    ['version', field.str(RABBITMQ_COMPATIBLE_VERSION)],
    ['warren_version', field.str(context.version)],
  ]);
}
