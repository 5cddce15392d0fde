/**
 * The broker's view of a message's properties over the raw encoded property list. The raw bytes are
 * what deliveries re-emit (byte-identical, like RabbitMQ's properties_bin); the decoded values are for
 * the few fields the broker acts on (delivery mode, expiration, user-id, headers).
 */
import type { MessageProperties } from '../broker/message.js';
import type { FieldTable } from '../types/field-table.js';
import {
  type BasicProperties, decodeBasicProperties, encodeBasicPropertiesBuffer,
} from '../protocol/generated/properties.js';

export class ContentProperties implements MessageProperties {
  private readonly decoded: BasicProperties;

  constructor(readonly raw: Buffer, decoded?: BasicProperties) {
    this.decoded = decoded ?? decodeBasicProperties(raw, 0, raw.length);
  }

  get deliveryMode(): number | undefined {
    return this.decoded.deliveryMode;
  }

  get expiration(): string | undefined {
    return this.decoded.expiration;
  }

  get priority(): number | undefined {
    return this.decoded.priority;
  }

  get userId(): string | undefined {
    return this.decoded.userId;
  }

  get headers(): FieldTable | undefined {
    return this.decoded.headers;
  }

  get values(): BasicProperties {
    return this.decoded;
  }

  /** Direct reply-to: the broker rewrites `amq.rabbitmq.reply-to` to the requester's reply key. */
  withReplyTo(replyTo: string): ContentProperties {
    const next: BasicProperties = { ...this.decoded, replyTo };
    return new ContentProperties(encodeBasicPropertiesBuffer(next), next);
  }

  withHeaders(headers: FieldTable, dropExpiration: boolean): MessageProperties {
    const next: BasicProperties = { ...this.decoded, headers };
    if (dropExpiration) delete next.expiration;
    return new ContentProperties(encodeBasicPropertiesBuffer(next), next);
  }
}
