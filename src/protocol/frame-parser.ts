/**
 * Incremental AMQP 0-9-1 frame parser (§4.2.3): the 8-byte protocol header first, then frames of
 * type(1) channel(2) size(4) payload(size) frame-end(0xCE). It knows nothing about methods or channels.
 *
 * Bytes arrive in arbitrary TCP chunks. Pending chunks are kept as a list with a read cursor, never
 * concatenated per read (pg-protocol's parser and RabbitMQ's rabbit_reader do the same):
 * - a payload lying wholly inside one chunk is handed over as a subarray of it (`owned = false`: the
 *   handler must copy whatever it keeps, as the chunk may be reused);
 * - a payload spanning chunks is allocated once at its exact size and the pieces copied in
 *   (`owned = true`: the handler may keep it).
 * The size in a frame header is checked against frame_max as soon as the 7 header bytes are in, before
 * any of the payload is buffered, so a peer cannot make us hold an oversized frame.
 *
 * Errors: malformed input throws a FRAME_ERROR (501) AmqpError out of push() and leaves the parser
 * `failed`: RabbitMQ treats this as having lost sync with the peer (rabbit_reader fatal_frame_error),
 * so the parser is not to be used again and ignores any further push(). An exception thrown by the
 * handler also propagates out of push(), but the parser stays consistent: the frame that was delivered
 * is consumed and the bytes after it stay pending until the next push() (`push(EMPTY)` resumes).
 */
import { frameError } from '../errors.js';
import { FRAME_END, FrameType } from './generated/constants.js';

export interface FrameHandler {
  /**
   * The peer's protocol header: exactly 8 bytes, or fewer when the first bytes already differ from
   * "AMQP" (the server then replies with the header it supports and closes, §4.2.2). Always a copy.
   * After a short header the parser stops (`closed`); after 8 bytes it goes on to parse frames, and
   * the handler calls close() if it refuses the version.
   */
  onProtocolHeader(header: Buffer): void;
  /** One frame. `owned` false: `payload` is a view of a read chunk, copy what you keep. */
  onFrame(type: number, channel: number, payload: Buffer, owned: boolean): void;
}

export interface FrameParserOptions {
  /** Expect the 8-byte protocol header first (true, the server side) or frames at once (false). */
  readonly protocolHeader?: boolean;
}

/**
 * RabbitMQ lets a frame exceed frame_max − 8 by up to 8 bytes, "since quite a few clients get it wrong -
 * off-by 1 or 8 (empty frame size) are typical" (rabbit_reader FRAME_SIZE_FUDGE): the payload limit is
 * therefore frame_max itself. We accept the same clients.
 */
export const FRAME_SIZE_FUDGE = 8;

/** Frame header (7) + frame end (1): what a frame adds around its payload. */
export const FRAME_OVERHEAD = 8;

const AMQP_PREFIX = [0x41, 0x4d, 0x51, 0x50] as const; // "AMQP"

const S_PROTOCOL_HEADER = 0;
const S_FRAME_HEADER = 1;
const S_PAYLOAD = 2;
const S_CLOSED = 3;
const S_FAILED = 4;
type State = typeof S_PROTOCOL_HEADER | typeof S_FRAME_HEADER | typeof S_PAYLOAD | typeof S_CLOSED | typeof S_FAILED;

const EMPTY = Buffer.alloc(0);

export class FrameParser {
  /**
   * Negotiated frame_max (connection.tune-ok); 0 means no limit (§4.2.3). Settable at any time: it
   * applies from the next frame header read, so a handler may change it while handling tune-ok.
   */
  frameMax: number;

  private readonly handler: FrameHandler;
  private readonly expectHeader: boolean;
  /** Pending chunks; chunks[head] is the current one, read from `pos`. Consumed slots are released. */
  private chunks: Buffer[] = [];
  private head = 0;
  private pos = 0;
  /** Unread bytes over all pending chunks. */
  private available = 0;
  private state: State;
  /** Header of the frame whose payload is awaited. */
  private type = 0;
  private channel = 0;
  private size = 0;
  /** Gathers a frame header that straddles chunks (per instance: no module state). */
  private readonly scratch = Buffer.alloc(7);

  constructor(handler: FrameHandler, frameMax: number, options?: FrameParserOptions) {
    this.handler = handler;
    this.frameMax = frameMax;
    this.expectHeader = options?.protocolHeader ?? true;
    this.state = this.expectHeader ? S_PROTOCOL_HEADER : S_FRAME_HEADER;
  }

  /** True once a malformed frame was seen; further input is ignored. */
  get failed(): boolean {
    return this.state === S_FAILED;
  }

  /** True after close() or a short (non-AMQP) protocol header; further input is ignored. */
  get closed(): boolean {
    return this.state === S_CLOSED;
  }

  /** Bytes received but not yet delivered (a partial frame, its header included). */
  get pendingBytes(): number {
    return this.state === S_PAYLOAD ? this.available + 7 : this.available;
  }

  /** Stops parsing: pending bytes are dropped and further input ignored (the connection is closing). */
  close(): void {
    if (this.state !== S_FAILED) this.state = S_CLOSED;
    this.drop();
  }

  /** Back to the initial state, as if newly constructed (pending bytes dropped). */
  reset(): void {
    this.drop();
    this.state = this.expectHeader ? S_PROTOCOL_HEADER : S_FRAME_HEADER;
  }

  push(chunk: Buffer): void {
    if (this.state >= S_CLOSED) return;
    if (chunk.length > 0) {
      // A stream that always ends mid-frame never drains the list: compact now and then so released
      // slots do not accumulate (amortised O(1) per chunk).
      if (this.head >= 32 && this.head * 2 >= this.chunks.length) {
        this.chunks = this.chunks.slice(this.head);
        this.head = 0;
      }
      this.chunks.push(chunk);
      this.available += chunk.length;
    }
    // The state is re-read on every turn: a handler may close() or reset() the parser.
    for (;;) {
      switch (this.state) {
        case S_PROTOCOL_HEADER:
          if (!this.readProtocolHeader()) return;
          break;
        case S_FRAME_HEADER:
          if (!this.readFrameHeader()) return;
          break;
        case S_PAYLOAD:
          if (!this.readPayload()) return;
          break;
        default:
          return;
      }
    }
  }

  private readProtocolHeader(): boolean {
    const n = Math.min(this.available, 8);
    if (n === 0) return false;
    const header = Buffer.allocUnsafe(n);
    this.copyOut(header, 0, n, false);
    const prefix = Math.min(n, 4);
    for (let i = 0; i < prefix; i++) {
      if (header[i] !== AMQP_PREFIX[i]) {
        // Known to be wrong already: let the server answer with its header now rather than waiting for
        // 8 bytes that may never come. Nothing after it is AMQP framing, so stop.
        this.state = S_CLOSED;
        this.drop();
        this.handler.onProtocolHeader(header);
        return false;
      }
    }
    if (n < 8) return false;
    this.consume(8);
    this.state = S_FRAME_HEADER;
    this.handler.onProtocolHeader(header);
    return true;
  }

  private readFrameHeader(): boolean {
    if (this.available < 7) return false;
    let src = this.chunks[this.head]!;
    let p = this.pos;
    if (p + 7 <= src.length) {
      this.consume(7);
    } else {
      this.copyOut(this.scratch, 0, 7, true);
      src = this.scratch;
      p = 0;
    }
    const type = src[p]!;
    const channel = src.readUInt16BE(p + 1);
    const size = src.readUInt32BE(p + 3);
    const frameMax = this.frameMax;
    // Checked before any payload is buffered (rabbit_reader handle_input frame_header, same order:
    // size first, then the type). RabbitMQ's text, which clients can reach (pika and py-amqp send a
    // content header larger than frame_max as one frame): no payload octets read yet, hence <<>>.
    if (frameMax !== 0 && size > frameMax - FRAME_OVERHEAD + FRAME_SIZE_FUDGE) {
      this.fail(`type ${type}, all octets = <<>>: {frame_too_large,${size},${frameMax - FRAME_OVERHEAD}}`);
    }
    if (type !== FrameType.Method && type !== FrameType.Header && type !== FrameType.Body &&
        type !== FrameType.Heartbeat) {
      this.fail(`unknown_frame: unknown frame type ${type} on channel ${channel}`);
    }
    this.type = type;
    this.channel = channel;
    this.size = size;
    this.state = S_PAYLOAD;
    return true;
  }

  private readPayload(): boolean {
    const size = this.size;
    if (this.available < size + 1) return false;
    const chunk = this.chunks[this.head]!;
    const start = this.pos;
    let payload: Buffer;
    let owned: boolean;
    let end: number;
    if (start + size < chunk.length) {
      // Payload and end octet in the current chunk: the common case, no copy.
      payload = chunk.subarray(start, start + size);
      owned = false;
      end = chunk[start + size]!;
      this.consume(size + 1);
    } else if (start + size === chunk.length) {
      // Payload ends the chunk; the end octet opens the next one. Still a view.
      payload = size === 0 ? EMPTY : chunk.subarray(start, start + size);
      owned = false;
      this.consume(size);
      end = this.chunks[this.head]![this.pos]!;
      this.consume(1);
    } else {
      payload = Buffer.allocUnsafe(size);
      owned = true;
      this.copyOut(payload, 0, size, true);
      end = this.chunks[this.head]![this.pos]!;
      this.consume(1);
    }
    if (end !== FRAME_END) {
      this.fail(
        `invalid_frame_end_marker: type ${this.type}, channel ${this.channel}: frame end octet is ` +
          `0x${end.toString(16).padStart(2, '0')}, not 0xce`,
      );
    }
    // State first: if the handler throws, the parser resumes at the next frame.
    this.state = S_FRAME_HEADER;
    this.handler.onFrame(this.type, this.channel, payload, owned);
    return true;
  }

  private fail(text: string): never {
    this.state = S_FAILED;
    this.drop();
    throw frameError(text);
  }

  /** Copies n (<= available) bytes from the cursor into dst; consumes them if `consume`. */
  private copyOut(dst: Buffer, at: number, n: number, consume: boolean): void {
    const total = n;
    let i = this.head;
    let p = this.pos;
    while (n > 0) {
      const c = this.chunks[i]!;
      const take = Math.min(n, c.length - p);
      c.copy(dst, at, p, p + take);
      at += take;
      n -= take;
      p += take;
      if (p === c.length) {
        i++;
        p = 0;
      }
    }
    if (consume) this.advanceTo(i, p, total);
  }

  private consume(n: number): void {
    let i = this.head;
    let p = this.pos + n;
    let c = this.chunks[i];
    while (c !== undefined && p >= c.length) {
      p -= c.length;
      i++;
      c = this.chunks[i];
    }
    this.advanceTo(i, p, n);
  }

  /** Moves the cursor to chunk i, offset p, after consuming n bytes; releases passed chunks. */
  private advanceTo(i: number, p: number, n: number): void {
    for (let j = this.head; j < i; j++) this.chunks[j] = EMPTY;
    this.head = i;
    this.pos = p;
    this.available -= n;
    if (i === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
      this.pos = 0;
    }
  }

  private drop(): void {
    this.chunks.length = 0;
    this.head = 0;
    this.pos = 0;
    this.available = 0;
  }
}
