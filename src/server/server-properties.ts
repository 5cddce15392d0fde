/**
 * connection.start server-properties: product identification and the capabilities Warren implements
 * (RabbitMQ clients switch features on from this table, so only what works is advertised).
 */
import { type FieldTable, field } from '../types/field-table.js';
import type { ServerContext } from './server-context.js';

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
    ['information', field.str('Warren: an AMQP 0-9-1 broker for development and tests. Licensed under MIT.')],
    ['platform', field.str(`Node.js ${process.version}`)],
    ['product', field.str('Warren')],
    ['version', field.str(context.version)],
  ]);
}
