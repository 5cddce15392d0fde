/**
 * Errors are values with codes. Domain code throws AmqpError through the named helpers below; the
 * channel or connection that owns the failing command turns it into channel.close or connection.close
 * (hard errors always close the connection: AMQP 0-9-1 §1.2 "soft" vs "hard" reply codes). Anything
 * thrown that is not an AmqpError is a bug: the connection logs its stack and closes with 541.
 */
import { REPLY_CODE_NAMES, ReplyCode, isHardError } from './protocol/generated/constants.js';

export { ReplyCode };

export class AmqpError extends Error {
  /** Class and method of the command that failed; filled in by the channel/connection if unknown. */
  classId: number;
  methodId: number;

  constructor(
    readonly replyCode: number,
    /** The explanation without the code name: `no queue 'q' in vhost '/'`. */
    readonly explanation: string,
    classId = 0,
    methodId = 0,
  ) {
    super(`${REPLY_CODE_NAMES[replyCode] ?? replyCode} - ${explanation}`);
    this.name = 'AmqpError';
    this.classId = classId;
    this.methodId = methodId;
  }

  /** True when the error must close the whole connection rather than one channel. */
  get isHard(): boolean {
    return isHardError(this.replyCode);
  }

  /** The reply text as RabbitMQ formats it (`NOT_FOUND - no queue 'q' in vhost '/'`), capped at 255 bytes. */
  get replyText(): string {
    return capShortString(this.message);
  }
}

/**
 * Reply texts are shortstrs (at most 255 bytes). A longer one is cut as RabbitMQ cuts it: the first 252
 * bytes (here, on a UTF-8 character boundary) and `...`.
 */
export function capShortString(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= 255) return text;
  let end = 252;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return `${bytes.subarray(0, end).toString('utf8')}...`;
}

/** vhost names appear in many messages; RabbitMQ quotes entity names with single quotes. */
export function describeQueue(name: string, vhost: string): string {
  return `queue '${name}' in vhost '${vhost}'`;
}
export function describeExchange(name: string, vhost: string): string {
  return `exchange '${name}' in vhost '${vhost}'`;
}

export const contentTooLarge = (text: string) => new AmqpError(ReplyCode.ContentTooLarge, text);
export const connectionForced = (text: string) => new AmqpError(ReplyCode.ConnectionForced, text);
export const invalidPath = (text: string) => new AmqpError(ReplyCode.InvalidPath, text);
export const accessRefused = (text: string) => new AmqpError(ReplyCode.AccessRefused, text);
export const notFound = (text: string) => new AmqpError(ReplyCode.NotFound, text);
export const resourceLocked = (text: string) => new AmqpError(ReplyCode.ResourceLocked, text);
export const preconditionFailed = (text: string) => new AmqpError(ReplyCode.PreconditionFailed, text);
export const frameError = (text: string) => new AmqpError(ReplyCode.FrameError, text);
export const syntaxError = (text: string) => new AmqpError(ReplyCode.SyntaxError, text);
export const commandInvalid = (text: string) => new AmqpError(ReplyCode.CommandInvalid, text);
export const channelError = (text: string) => new AmqpError(ReplyCode.ChannelError, text);
export const unexpectedFrame = (text: string) => new AmqpError(ReplyCode.UnexpectedFrame, text);
export const resourceError = (text: string) => new AmqpError(ReplyCode.ResourceError, text);
export const notAllowed = (text: string) => new AmqpError(ReplyCode.NotAllowed, text);
export const notImplemented = (text: string) => new AmqpError(ReplyCode.NotImplemented, text);
export const internalError = (text: string) => new AmqpError(ReplyCode.InternalError, text);
