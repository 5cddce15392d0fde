/**
 * Content header frame payloads (AMQP 0-9-1 §4.2.6.1): class-id(2) weight(2) body-size(8) followed by
 * the property flags and values. The property bytes stay raw: the broker decodes only what routing needs
 * and re-emits the same bytes on delivery (RabbitMQ keeps `properties_bin` the same way).
 */
import { frameError } from '../errors.js';
import { FRAME_END, FrameType } from './generated/constants.js';

/** class-id + weight + body-size. */
export const CONTENT_HEADER_FIXED_SIZE = 12;

export interface ContentHeader {
  readonly classId: number;
  /** Unused; the spec says it must be zero. RabbitMQ does not check it, neither do we. */
  readonly weight: number;
  readonly bodySize: number;
  /** Property flags and values, a subarray of the payload (copy it to keep a borrowed payload). */
  readonly properties: Buffer;
}

/** Largest body-size accepted: a JS number is exact up to 2^53 − 1. */
const MAX_BODY_SIZE_HIGH = 0x1fffff; // high 32 bits of Number.MAX_SAFE_INTEGER

export function readContentHeader(payload: Buffer): ContentHeader {
  // At least one 16-bit property flags word must follow the fixed part (§4.2.6.1).
  if (payload.length < CONTENT_HEADER_FIXED_SIZE + 2) {
    throw frameError(`content header: payload of ${payload.length} bytes is shorter than the minimum 14`);
  }
  const high = payload.readUInt32BE(4);
  if (high > MAX_BODY_SIZE_HIGH) {
    throw frameError(`content header: body size ${payload.readBigUInt64BE(4)} is too large`);
  }
  return {
    classId: payload.readUInt16BE(0),
    weight: payload.readUInt16BE(2),
    bodySize: high * 0x1_0000_0000 + payload.readUInt32BE(8),
    properties: payload.subarray(CONTENT_HEADER_FIXED_SIZE),
  };
}

/** Size of a whole content header frame (7-byte frame header, payload, end octet). */
export function contentHeaderSize(propertiesLength: number): number {
  return 7 + CONTENT_HEADER_FIXED_SIZE + propertiesLength + 1;
}

/**
 * Writes a complete content header frame at `off` (room for contentHeaderSize(rawProperties.length)
 * bytes is the caller's job); returns the offset after the frame end octet.
 */
export function writeContentHeaderFrame(
  buf: Buffer,
  off: number,
  channel: number,
  classId: number,
  bodySize: number,
  rawProperties: Buffer,
): number {
  buf[off] = FrameType.Header;
  buf.writeUInt16BE(channel, off + 1);
  buf.writeUInt32BE(CONTENT_HEADER_FIXED_SIZE + rawProperties.length, off + 3);
  buf.writeUInt16BE(classId, off + 7);
  buf.writeUInt16BE(0, off + 9);
  // body-size is 64-bit; split by hand so a number body size needs no BigInt.
  buf.writeUInt32BE(Math.floor(bodySize / 0x1_0000_0000), off + 11);
  buf.writeUInt32BE(bodySize >>> 0, off + 15);
  off += 19;
  off += rawProperties.copy(buf, off);
  buf[off] = FRAME_END;
  return off + 1;
}
